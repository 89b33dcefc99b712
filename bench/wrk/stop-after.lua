-- Counts responses and, once there have been N (the script's argument: wrk ... URL -- N), stops
-- this wrk thread and prints the line "stop-after: done". wrk itself runs for its -d duration
-- whatever its threads do, so bench/soak.ts interrupts it (SIGINT, after which wrk still prints
-- its report) when that line appears. Used with one thread, N is the number of requests of a run.
local limit
local responses = 0

function init(args)
  limit = tonumber(args[1])
  if limit == nil or limit < 1 then
    error("stop-after.lua needs the number of requests: wrk ... URL -- N")
  end
end

function response(status, headers, body)
  responses = responses + 1
  if responses == limit then
    io.write("stop-after: done\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end
