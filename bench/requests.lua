-- Replays pre-built requests, one per line: method, path, headers ("Name: value"
-- joined by "|"), body (tab-separated), each once before any repeats. Prints the
-- figures as JSON. A second argument "backwards" replays from the last line, for a
-- warm-up whose requests the measured run (from the first line) does not repeat.
local requests = {}
local position = 0
local step = 1

function init(args)
  for line in io.lines(args[1]) do
    local method, path, header_list, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    for name, value in header_list:gmatch("([^|:]+): ([^|]+)") do
      headers[name] = value
    end
    if body == "" then body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  if args[2] == "backwards" then step = -1 end
end

function request()
  position = (position - 1 + step) % #requests + 1
  return requests[position]
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
