-- wrk script: POST /v1/calculate with the body in $BODY (default bench/body.json) and the
-- tenant token in $SANTEI_TOKEN. Prints p50/p90/p99/p99.9 and the error count at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("SANTEI_TOKEN") or "")
local f = assert(io.open(os.getenv("BODY") or "body.json", "rb"))
wrk.body = f:read("*a")
f:close()

function done(summary, latency, requests)
  local s = summary
  io.write(string.format("requests %d in %.2f s: %.0f req/s; non-2xx %d, socket errors %d\n",
    s.requests, s.duration / 1e6, s.requests / (s.duration / 1e6), s.errors.status,
    s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%-5s %.2f ms\n", tostring(p), latency:percentile(p) / 1000))
  end
end
