-- wrk script of perf/harness.py: POST bodies with tokens, counting statuses.
--
--   wrk -s perf/requests.lua URL -- TOKENS_FILE BODIES_FILE KEY_PREFIX THREADS
--
-- Requests walk the token and body lists round-robin (thread i takes the i-th of every THREADS
-- slots), so many buyers share the load and no per-user rate matters. With a KEY_PREFIX other
-- than "-", each request carries a fresh Idempotency-Key KEY_PREFIX-thread-counter (no replays).
-- done() prints one "status <code> <count>" line per status and one "sample <code> <body>" per
-- status other than 200/201.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

local function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then
         lines[#lines + 1] = line
      end
   end
   if #lines == 0 then
      error("no lines in " .. path)
   end
   return lines
end

function init(args)
   tokens = read_lines(args[1])
   bodies = read_lines(args[2])
   prefix = args[3]
   stride = tonumber(args[4])
   sent = 0
   statuses = {}
   samples = {}
end

function request()
   local slot = sent * stride + (id - 1)
   sent = sent + 1
   local headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Token " .. tokens[slot % #tokens + 1],
   }
   if prefix ~= "-" then
      headers["Idempotency-Key"] = prefix .. "-" .. id .. "-" .. sent
   end
   return wrk.format("POST", nil, headers, bodies[slot % #bodies + 1])
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status ~= 200 and status ~= 201 and samples[status] == nil then
      samples[status] = string.sub(string.gsub(body or "", "%s+", " "), 1, 300)
   end
end

function done(summary, latency, requests)
   local total, sample = {}, {}
   for _, thread in ipairs(threads) do
      for code, count in pairs(thread:get("statuses")) do
         total[code] = (total[code] or 0) + count
      end
      for code, body in pairs(thread:get("samples")) do
         sample[code] = sample[code] or body
      end
   end
   for code, count in pairs(total) do
      io.write(string.format("status %d %d\n", code, count))
   end
   for code, body in pairs(sample) do
      io.write(string.format("sample %d %s\n", code, body))
   end
end
