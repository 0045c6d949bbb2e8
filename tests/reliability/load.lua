-- wrk script of test_load.py: GET /pets?limit=20, GET /pets/1 and POST /orders (token from
-- $PYM_TOKEN) in turn; prints one machine-readable result line at the end.
local token = os.getenv("PYM_TOKEN") or ""
local order = '{"items": [{"pet_id": 1}], "delivery": {"name": "Ann", "street": "1 Main St",'
  .. ' "city": "Paris", "country": "FR"}}'
local requests_ = {
  wrk.format("GET", "/pets?limit=20"),
  wrk.format("GET", "/pets/1"),
  wrk.format("POST", "/orders", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, order),
}
local i = 0

request = function()
  i = i + 1
  return requests_[(i % #requests_) + 1]
end

done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'PYM_RESULT {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
