// Boost.JSON compiled into the fuzzers (header-only mode), so that its parser and serializer are
// instrumented like the rest: the installed libboost_json.a is not.
#include <boost/json/src.hpp>
