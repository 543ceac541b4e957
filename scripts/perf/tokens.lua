-- wrk: GET the pass with a different identity token on every request,
-- rotating through the file $TOKENS (one token a line, perf_tokens), each
-- wrk thread from its own starting point. Sent to nginx too, so both
-- servers read the same requests.
local tokens = {}
local i = 0
local path = os.getenv("PERF_PATH") or "/api/v1/pass"

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[i] })
end
