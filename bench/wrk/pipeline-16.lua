-- HTTP pipelining, depth 16: every write is 16 copies of wrk's request (`GET /` unless the command
-- line says otherwise), sent without waiting for any answer, as wrk's own pipeline.lua example
-- does. wrk counts the requests in the string and expects as many responses before the next write.
local depth = 16
local batch

function init(args)
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  batch = table.concat(requests)
end

function request()
  return batch
end
