-- wrk script: durable single-event publishes (POST /v1/events) with the token in ARGUS_TOKEN.
local token = os.getenv("ARGUS_TOKEN")
wrk.method = "POST"
wrk.path = "/v1/events"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"type":"user.login","organization_id":"org_bench","data":{"user_id":"u_1","ip":"203.0.113.9","pad":"' .. string.rep("x", 960) .. '"}}'

function response(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
    wrk.thread:stop()
  end
end
