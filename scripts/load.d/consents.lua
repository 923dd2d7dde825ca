-- wrk script for scripts/load: manual consent recording, POST /v1/contacts/{id}/consents.
--
-- Environment (set by scripts/load):
--   LOAD_KEY       the tenant's API key (csk_…)
--   LOAD_IDS_FILE  a file with one contact ID per line (the contacts the load spreads over)
--
-- Each request picks a contact at random and one of a few purpose/decision pairs, so the
-- consent_status upserts touch ~3 x contacts rows rather than one hot row. Only 201
-- responses are proofs: response() counts every status, and done() prints one
-- machine-readable LOAD_RESULT line that scripts/load parses (non-201 counts included).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local key = os.getenv("LOAD_KEY")
local ids_file = os.getenv("LOAD_IDS_FILE")

local ids = {}
local bodies = {
  '{"purpose":"newsletter","decision":"granted"}',
  '{"purpose":"newsletter","decision":"granted"}',
  '{"purpose":"newsletter","decision":"refused"}',
  '{"purpose":"analytics","decision":"granted"}',
  '{"purpose":"analytics","decision":"refused"}',
  '{"purpose":"partners","decision":"granted"}',
  '{"purpose":"partners","decision":"revoked"}',
}
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
  n201 = 0
  nother = 0
end

function request()
  local id = ids[math.random(#ids)]
  local body = bodies[math.random(#bodies)]
  return wrk.format("POST", "/v1/contacts/" .. id .. "/consents", headers, body)
end

function response(status, hdrs, body)
  if status == 201 then
    n201 = n201 + 1
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
    ok = ok + (t:get("n201") or 0)
    other = other + (t:get("nother") or 0)
    local c = t:get("codes") or {}
    for k, v in pairs(c) do merged[k] = (merged[k] or 0) + v end
  end
  for k, v in pairs(merged) do table.insert(codelist, k .. "x" .. v) end
  local e = summary.errors
  io.write(string.format(
    "LOAD_RESULT duration_us=%d requests=%d ok201=%d non201=%d codes=%s " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%d\n",
    summary.duration, summary.requests, ok, other,
    (#codelist > 0) and table.concat(codelist, ",") or "-",
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
