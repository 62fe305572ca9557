-- wrk script: batches of 100 events (POST /v1/events/batch) with the token in ARGUS_TOKEN.
local token = os.getenv("ARGUS_TOKEN")
local events = {}
for i = 1, 100 do
  events[i] = '{"type":"user.login","organization_id":"org_bench","data":{"user_id":"u_' .. i .. '","pad":"' .. string.rep("x", 200) .. '"}}'
end
wrk.method = "POST"
wrk.path = "/v1/events/batch"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"events":[' .. table.concat(events, ",") .. ']}'

function response(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
    wrk.thread:stop()
  end
end
