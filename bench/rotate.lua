-- wrk script: rotate through a list of requests read from a file (bench/run.sh writes it).
--
--   wrk -t2 -c16 -d5s --latency -s bench/rotate.lua http://127.0.0.1:8000 -- requests.txt
--
-- One request per line of requests.txt:
--   /products?page=3                                   a GET of that path
--   POST<TAB>/cart/add<TAB>session=...<TAB>a=1&b=2     a form POST with that cookie and body
-- Each wrk thread starts at a different line and then takes the lines in order, round and
-- round, so every line is requested about equally often. The requests are formatted once,
-- in init(), so the per-request cost in wrk is a table lookup.

local thread_count = 0

function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
end

local function split_tabs(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
   end
   return fields
end

local requests = {}
local position = 0

function init(args)
   local name = args[1]
   assert(name, "rotate.lua: give the requests file after --")
   local file = assert(io.open(name, "r"), "rotate.lua: cannot open " .. name)
   for line in file:lines() do
      line = line:gsub("\r$", "")
      if line ~= "" then
         local fields = split_tabs(line)
         if fields[1] == "POST" then
            assert(#fields == 4, "rotate.lua: a POST line needs 4 tab-separated fields")
            requests[#requests + 1] = wrk.format("POST", fields[2], {
               ["Cookie"] = fields[3],
               ["Content-Type"] = "application/x-www-form-urlencoded",
            }, fields[4])
         else
            requests[#requests + 1] = wrk.format("GET", fields[1])
         end
      end
   end
   file:close()
   assert(#requests > 0, "rotate.lua: no requests in " .. name)
   -- Start each thread elsewhere in the list (a thread's state has only its own index).
   position = ((thread_index or 0) * 7919) % #requests
end

function request()
   position = position % #requests + 1
   return requests[position]
end
