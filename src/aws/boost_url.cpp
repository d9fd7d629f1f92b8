// Boost.URL compiled into qr_aws, in this one translation unit (its header-only mode: src.hpp),
// instead of linking Debian's libboost_url.a. That archive is a single object built without
// -ffunction-sections, and it includes <iostream>: linked into a bootstrap it brought 200 KB of
// URL code the bootstraps never call and, through the iostream initialiser, the whole locale
// machinery of the static libstdc++ (another 360 KB; the zips grew by 11%). Compiled here with
// the build's flags, --gc-sections keeps only the parser that parse_endpoint uses.
//
// Only url_base.ipp includes <iostream>, and it uses nothing from it (<ostream>, which the
// stream operators need, comes in anyway): libstdc++'s include guard keeps it out.
#define _GLIBCXX_IOSTREAM 1
#include <boost/url/src.hpp>
