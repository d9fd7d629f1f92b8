-- wrk script: POST /sessions with an empty JSON object, as the desktop page does.
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
