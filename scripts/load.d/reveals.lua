-- wrk script for scripts/load-reveal: purpose-gated reveals, POST /v1/contacts/{id}/reveal.
--
-- Environment (set by scripts/load-reveal):
--   LOAD_KEY       the tenant's API key (csk_…)
--   LOAD_IDS_FILE  a file with one contact ID per line, each with a granted consent for
--                  the purpose `invoicing`
--
-- Each request picks a contact at random and asks for its e-mail address and name: a
-- consent check in the append transaction, a sealed `data.access` event on the log, and
-- the decryption of two fields. Only 200 responses are reveals: response() counts every
-- status, and done() prints one machine-readable LOAD_RESULT line that scripts/load-reveal
-- parses (non-200 counts included).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local key = os.getenv("LOAD_KEY")
local ids_file = os.getenv("LOAD_IDS_FILE")

local ids = {}
local body = '{"purpose":"invoicing","fields":["email","name"]}'
local headers = {}

function init(args)
  if key == nil or ids_file == nil then
    error("LOAD_KEY and LOAD_IDS_FILE must be set")
  end
  for line in io.lines(ids_file) do
    if #line > 0 then table.insert(ids, line) end
  end
  if #ids == 0 then error("no contact IDs in " .. ids_file) end
  headers["Authorization"] = "Bearer " .. key
  headers["Content-Type"] = "application/json"
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  codes = {}   -- status code -> count, read by done() through thread:get
  n200 = 0
  nother = 0
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("POST", "/v1/contacts/" .. id .. "/reveal", headers, body)
end

function response(status, hdrs, body)
  if status == 200 then
    n200 = n200 + 1
  else
    nother = nother + 1
    local k = tostring(status)
    codes[k] = (codes[k] or 0) + 1
  end
end

function done(summary, latency, requests)
  local ok, other, codelist = 0, 0, {}
  local merged = {}
  for _, t in ipairs(threads) do
    ok = ok + (t:get("n200") or 0)
    other = other + (t:get("nother") or 0)
    local c = t:get("codes") or {}
    for k, v in pairs(c) do merged[k] = (merged[k] or 0) + v end
  end
  for k, v in pairs(merged) do table.insert(codelist, k .. "x" .. v) end
  local e = summary.errors
  io.write(string.format(
    "LOAD_RESULT duration_us=%d requests=%d ok200=%d non200=%d codes=%s " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%d\n",
    summary.duration, summary.requests, ok, other,
    (#codelist > 0) and table.concat(codelist, ",") or "-",
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
