# Embeds the provider catalog (providers/*.json) into sb_oauth.
#
# Two roles in one file:
#  - include()d from CMakeLists.txt (after sb_oauth exists): adds a build step that generates
#    provider_catalog_data.cc in the binary dir whenever a provider file changes, and compiles it
#    into sb_oauth;
#  - run as a script (cmake -DPROVIDER_DIR=... -DOUTPUT=... -P embed_catalog.cmake): writes that
#    file, one raw string per provider file, sorted by name (the build step runs it).

if(CMAKE_SCRIPT_MODE_FILE)
  file(GLOB provider_files "${PROVIDER_DIR}/*.json")
  list(SORT provider_files)
  set(entries "")
  set(count 0)
  foreach(path ${provider_files})
    get_filename_component(name "${path}" NAME)
    file(READ "${path}" content)
    string(FIND "${content}" ")sbprovider\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${path} contains the raw-string delimiter )sbprovider\"")
    endif()
    string(APPEND entries "    {\"${name}\", R\"sbprovider(${content})sbprovider\"},\n")
    math(EXPR count "${count} + 1")
  endforeach()
  file(WRITE "${OUTPUT}"
    "// Generated from src/sb/oauth/providers/*.json by embed_catalog.cmake; do not edit.\n"
    "#include \"sb/oauth/catalog.h\"\n\n"
    "namespace sb::oauth::internal {\n\n"
    "// The last element only keeps the array non-empty; kEmbeddedProviderCount excludes it.\n"
    "const EmbeddedProvider kEmbeddedProviders[] = {\n"
    "${entries}"
    "    {nullptr, nullptr},\n"
    "};\n"
    "const size_t kEmbeddedProviderCount = ${count};\n\n"
    "}  // namespace sb::oauth::internal\n")
  return()
endif()

# CONFIGURE_DEPENDS: adding or removing a provider file re-runs the glob at build time.
file(GLOB SB_OAUTH_PROVIDER_FILES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_LIST_DIR}/providers/*.json)
set(SB_OAUTH_CATALOG_CC ${CMAKE_CURRENT_BINARY_DIR}/provider_catalog_data.cc)
add_custom_command(
  OUTPUT ${SB_OAUTH_CATALOG_CC}
  COMMAND ${CMAKE_COMMAND} -DPROVIDER_DIR=${CMAKE_CURRENT_LIST_DIR}/providers
          -DOUTPUT=${SB_OAUTH_CATALOG_CC} -P ${CMAKE_CURRENT_LIST_DIR}/embed_catalog.cmake
  DEPENDS ${SB_OAUTH_PROVIDER_FILES} ${CMAKE_CURRENT_LIST_DIR}/embed_catalog.cmake
  COMMENT "Embedding the provider catalog"
)
target_sources(sb_oauth PRIVATE ${SB_OAUTH_CATALOG_CC})
