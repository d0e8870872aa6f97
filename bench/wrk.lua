-- Requests for bench/run.sh. MODE (env): "get" (default; PATH_), "create"
-- (POST /v0/times with distinct bodies; TOKEN, PROJECT), "update" (POST
-- /v0/times/:uuid over UUIDS, comma-separated), "login" (USER_, password
-- "password"); COOKIE adds a Cookie header (web pages). Prints one machine-readable RESULT line at the end.
local mode = os.getenv("MODE") or "get"
local counter = 0
local uuids = {}
for u in string.gmatch(os.getenv("UUIDS") or "", "[^,]+") do uuids[#uuids + 1] = u end

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  n = 0
  wrk.headers["Content-Type"] = "application/json"
  -- Web pages (GET, PATH_) sign in with the session cookie.
  if os.getenv("COOKIE") then wrk.headers["Cookie"] = os.getenv("COOKIE") end
end

function request()
  n = n + 1
  if mode == "create" then
    local body = string.format(
      '{"auth":{"type":"token","token":"%s"},"object":{"user":"%s","duration":%d,"project":"%s","activities":["activity1"],"date_worked":"2026-0%d-%02d","notes":"bench %d-%d"}}',
      os.getenv("TOKEN"), os.getenv("USER_"), 60 + n % 10000, os.getenv("PROJECT"), 1 + n % 9, 1 + n % 28, id, n)
    return wrk.format("POST", "/v0/times", nil, body)
  elseif mode == "update" then
    local uuid = uuids[1 + (n * 7 + id) % #uuids]
    local body = string.format('{"auth":{"type":"token","token":"%s"},"object":{"duration":%d}}',
      os.getenv("TOKEN"), 60 + n % 10000)
    return wrk.format("POST", "/v0/times/" .. uuid, nil, body)
  elseif mode == "login" then
    local body = string.format('{"auth":{"type":"password","username":"%s","password":"password"}}', os.getenv("USER_"))
    return wrk.format("POST", "/v0/login", nil, body)
  end
  return wrk.format("GET", os.getenv("PATH_"))
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format("RESULT %d %d %.1f %.2f %.2f\n", summary.requests, errors,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
