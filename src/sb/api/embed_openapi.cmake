# Generates a .cc holding openapi.json as a raw string (run at build time).
file(READ ${INPUT} content)
file(WRITE ${OUTPUT} "// Generated from openapi.json; do not edit.\nnamespace sb::api {\nextern const char* const kOpenApiJson;\nconst char* const kOpenApiJson = R\"sbjson(${content})sbjson\";\n}  // namespace sb::api\n")
