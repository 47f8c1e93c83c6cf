-- wrk script of bench/capture.py's single-document POST: each request posts a new
-- `lot.produced` document (its event_id and lot id made unique by the run, the thread
-- and a counter), and counts what came back. Arguments: a run tag (8 hex digits) and
-- the bearer token (empty for none).
--   wrk -t 1 -c 4 -d 20s -s bench/single_post.lua URL/v1/events -- RUN TOKEN
-- done() prints one line: WRK_COUNTS {"sent": requests made, "succeeded": 2xx answers,
-- "failed": other answers, "socket_errors": ..., "duration_us": ...}.

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_number", thread_count)
   table.insert(threads, thread)
end

function init(args)
   run = args[1]
   sent, succeeded, failed = 0, 0, 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if args[2] ~= nil and args[2] ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. args[2]
   end
end

local body = '{"event_id":"%s-%04x-4%03x-8000-%012x","type":"lot.produced",'
   .. '"occurred_at":"2005-06-01T10:00:00Z","lot_id":"BENCH-%s-%d-%d",'
   .. '"source_id":"BENCH-MINE","carats":"12.34","value_usd":"1234.00"}'

function request()
   sent = sent + 1
   return wrk.format(nil, nil, nil,
      string.format(body, run, thread_number, 0, sent, run, thread_number, sent))
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      succeeded = succeeded + 1
   else
      failed = failed + 1
   end
end

function done(summary, latency, requests)
   local s, ok, bad = 0, 0, 0
   for _, thread in ipairs(threads) do
      s = s + thread:get("sent")
      ok = ok + thread:get("succeeded")
      bad = bad + thread:get("failed")
   end
   io.write(string.format('WRK_COUNTS {"sent": %d, "succeeded": %d, "failed": %d, ' ..
      '"socket_errors": %d, "duration_us": %d}\n', s, ok, bad,
      summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.duration))
end
