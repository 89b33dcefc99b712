-- Every request is a POST with a 1 MiB body (wrk adds the Content-Length).
-- bench/scenarios.ts sends the same body once, to check the echo, before wrk runs this.
wrk.method = "POST"
wrk.body = string.rep("x", 1048576)
wrk.headers["Content-Type"] = "application/octet-stream"
