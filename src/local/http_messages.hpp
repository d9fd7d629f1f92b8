#pragma once
// The HTTP messages of the local server in Beast's types: the header fields a request brings to
// the event builders, and the answers it sends (JSON errors and bodies, a router's answer).

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>

#include <string_view>

#include "local/local_events.hpp"

namespace qr::local {

using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// A request's header fields, as the event builders take them.
HeaderFields fields_of(const boost::beast::http::request_header<>& header);

/// A JSON body with a status; never cached.
StringResponse json_response(unsigned status, const boost::json::object& body, unsigned version,
                             bool keep_alive);
/// {"error": message} with a status.
StringResponse error_json(unsigned status, std::string_view message, unsigned version,
                          bool keep_alive);
/// A router's answer (status, its headers, its body) as an HTTP response.
StringResponse from_router(const RouterAnswer& answer, unsigned version, bool keep_alive);

}  // namespace qr::local
