-- tater.limiter: every Redis rate-limit decision, atomically, in one round trip.
--
-- KEYS[1]  the entity's sliding log: a sorted set of admission times (µs) shared by all
--          rolling rules, unique members, trimmed to the longest rolling window
-- KEYS[2]  the entity's fixed windows: a hash, per rule length S, fields "S:w" (window
--          index) and "S:n" (count in that window)
-- KEYS[3…] extra string keys to GET and return (same hash tag, so same cluster slot)
-- ARGV     mode ('check' | 'peek' | 'refund'), now in µs ('' = this server's clock),
--          cost, member token (unique per call; 'refund': the admission's token, with now its
--          time, or '' for the newest entries), rule count n, then per rule:
--          seconds, limit, 'r' (rolling) or 'f' (fixed)
--          (n = 0: the rules remembered from the entity's last admitted check with rules)
-- Returns  {admitted 0/1 (-1: n = 0 and no rules remembered), now µs, the remembered rules
--          used ("S:L:r,…", or false), per rule: used, reset µs, retry-after µs, read values…}
--
-- A request is admitted only if every rule has room for `cost` more; then, and only then,
-- all of them count it and the given rules are remembered (a refusal counts nothing; it
-- only remembers rules that changed).
-- 'peek' decides for cost without writing; 'refund' takes `cost` back (one admission's log
-- members and, while its window is current, its fixed counts; or the newest entries) and
-- then answers as 'peek'.

local log_key, win_key = KEYS[1], KEYS[2]
local mode = ARGV[1]
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[2])
end
local cost = tonumber(ARGV[3])
local token = ARGV[4]
local n = tonumber(ARGV[5])

local function num(x)
  return string.format('%.0f', x)
end

-- The rules: given (n > 0; remembered in the fixed-window hash as "_rules"), or, with
-- n = 0, the ones remembered from the entity's last admitted check ("unknown" when none).
local specs = {}
local stored = nil
if n == 0 then
  stored = redis.call('HGET', win_key, '_rules')
  if not stored then
    local out = {-1, now, false}
    for i = 3, #KEYS do out[#out + 1] = redis.call('GET', KEYS[i]) end
    return out
  end
  for seconds, limit, kind in string.gmatch(stored, '(%d+):(%d+):(%a)') do
    specs[#specs + 1] = {seconds, limit, kind}
  end
  n = #specs
else
  for i = 1, n do
    local b = 5 + 3 * (i - 1)
    specs[i] = {ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]}
  end
end

local function rules_spec()
  local spec = {}
  for i = 1, n do spec[i] = specs[i][1] .. ':' .. specs[i][2] .. ':' .. specs[i][3] end
  return table.concat(spec, ',')
end

local rules = {}
local longest = 0
local widest = 0
for i = 1, n do
  local rule = {name = specs[i][1], span = tonumber(specs[i][1]) * 1000000,
                limit = tonumber(specs[i][2]), rolling = specs[i][3] == 'r'}
  if rule.span > widest then widest = rule.span end
  if rule.rolling then
    if rule.span > longest then longest = rule.span end
  else
    rule.index = math.floor(now / rule.span)
    local stored = redis.call('HMGET', win_key, rule.name .. ':w', rule.name .. ':n')
    rule.used = 0
    if tonumber(stored[1]) == rule.index then rule.used = tonumber(stored[2]) or 0 end
  end
  rules[i] = rule
end

-- The caller's reads first: a read that fails (a key of the wrong type) fails the call
-- before anything is written (Redis does not roll a script back).
local read_values = {}
for i = 3, #KEYS do read_values[#read_values + 1] = redis.call('GET', KEYS[i]) end

if mode == 'refund' then
  if longest > 0 then
    if token ~= '' then
      -- One admission exactly: its own members, if still in the window (never another's,
      -- which would leave the window later than it and let one request too many in).
      for j = 1, cost do redis.call('ZREM', log_key, token .. ':' .. j) end
    else
      redis.call('ZPOPMAX', log_key, cost)
    end
  end
  for _, rule in ipairs(rules) do
    if not rule.rolling and rule.used > 0 then
      rule.used = math.max(0, rule.used - cost)
      redis.call('HSET', win_key, rule.name .. ':n', rule.used)
    end
  end
  mode, cost = 'peek', 1
end

if longest > 0 and mode == 'check' then
  redis.call('ZREMRANGEBYSCORE', log_key, '-inf', num(now - longest))
end
local newest = nil  -- the log's newest admission time, read only when a reset needs it
local function newest_entry()
  if newest == nil then
    local top = redis.call('ZRANGE', log_key, -1, -1, 'WITHSCORES')
    newest = top[2] and tonumber(top[2]) or false
  end
  return newest
end

local admitted = 1
for _, rule in ipairs(rules) do
  rule.wait = 0
  if rule.rolling then
    local low = '(' .. num(now - rule.span)
    if mode == 'check' and rule.span == longest then
      rule.used = redis.call('ZCARD', log_key)  -- trimmed to this very window above
    else
      rule.used = redis.call('ZCOUNT', log_key, low, '+inf')
    end
    local excess = rule.used + cost - rule.limit
    if excess > 0 then
      if cost > rule.limit then
        rule.wait = rule.span
      else
        -- the excess-th oldest entry of the window must leave it first
        local hit = redis.call('ZRANGEBYSCORE', log_key, low, '+inf', 'WITHSCORES', 'LIMIT', excess - 1, 1)
        rule.wait = tonumber(hit[2]) + rule.span - now
      end
    end
  else
    rule.reset = (rule.index + 1) * rule.span
    if rule.used + cost > rule.limit then
      if cost > rule.limit then rule.wait = rule.span else rule.wait = rule.reset - now end
    end
  end
  if rule.wait > 0 then admitted = 0 end
end

if admitted == 1 and mode == 'check' then
  if longest > 0 then
    local args = {}
    for j = 1, cost do
      args[#args + 1] = num(now)
      args[#args + 1] = token .. ':' .. j
      if #args >= 2000 or j == cost then  -- unpack() has a stack limit: batches
        redis.call('ZADD', log_key, unpack(args))
        args = {}
      end
    end
    redis.call('PEXPIRE', log_key, math.ceil(longest / 1000))
  end
  -- The fixed windows' counts and (given rules) the rules themselves, remembered for a
  -- later check that does not know them (n = 0), kept as long as the widest window.
  local fields = {}
  local keep = widest
  for _, rule in ipairs(rules) do
    if rule.rolling then
      rule.reset = now + rule.span
    else
      fields[#fields + 1] = rule.name .. ':w'
      fields[#fields + 1] = num(rule.index)
      fields[#fields + 1] = rule.name .. ':n'
      fields[#fields + 1] = rule.used + cost
      keep = math.max(keep, rule.reset - now)
    end
    rule.used = rule.used + cost
  end
  if not stored then
    fields[#fields + 1] = '_rules'
    fields[#fields + 1] = rules_spec()
  end
  if #fields > 0 then
    redis.call('HSET', win_key, unpack(fields))
    redis.call('PEXPIRE', win_key, math.ceil(keep / 1000) + 1000)
  end
else
  for _, rule in ipairs(rules) do
    if rule.rolling then
      rule.reset = now
      if rule.used > 0 and newest_entry() then rule.reset = newest_entry() + rule.span end
    end
  end
  if mode == 'check' and not stored and redis.call('HGET', win_key, '_rules') ~= rules_spec() then
    -- Refused under rules that changed: they are remembered all the same (no count is).
    redis.call('HSET', win_key, '_rules', rules_spec())
    if redis.call('PTTL', win_key) < widest / 1000 then
      redis.call('PEXPIRE', win_key, math.ceil(widest / 1000) + 1000)
    end
  end
end

local out = {admitted, now, stored or false}
for _, rule in ipairs(rules) do
  out[#out + 1] = rule.used
  out[#out + 1] = rule.reset
  out[#out + 1] = rule.wait
end
for _, value in ipairs(read_values) do out[#out + 1] = value end
return out
