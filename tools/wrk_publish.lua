-- wrk script: durable single-event publishes (POST /v1/events) with the token in ARGUS_TOKEN.
local token = os.getenv("ARGUS_TOKEN")
wrk.method = "POST"
wrk.path = "/v1/events"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"type":"user.login","organization_id":"org_bench","data":{"user_id":"u_1","ip":"203.0.113.9","pad":"' .. string.rep("x", 960) .. '"}}'

-- No response() callback: wrk would hand every answer to Lua, which costs the client CPU on the machine the
-- server shares. argus-bench refuses a run whose summary counts any non-2xx answer.
