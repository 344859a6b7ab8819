// The one translation unit that compiles Boost.Beast (BOOST_BEAST_SEPARATE_COMPILATION is set
// for every sb_http source, see CMakeLists.txt).
#include <boost/beast/src.hpp>
