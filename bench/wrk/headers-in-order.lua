-- A GET of the URL's path with Host and then the header lines given as the script's arguments,
-- in their order (wrk ... URL -- "Name: value" ...). bench/scenarios.ts passes the headers its
-- probe sends, so that the probe and wrk send the same request from one list. The request is
-- built by hand because wrk.format writes wrk.headers in the order of a Lua hash, not a browser's.
local request_bytes

function init(args)
  local lines = { "GET " .. wrk.path .. " HTTP/1.1", "Host: " .. wrk.host .. ":" .. wrk.port }
  for _, line in ipairs(args) do
    lines[#lines + 1] = line
  end
  request_bytes = table.concat(lines, "\r\n") .. "\r\n\r\n"
end

function request()
  return request_bytes
end
