-- The shared library.  In the Redis function library the module loads
-- (gen.pl), this file is the top level, made once when Redis loads it,
-- and each script a function.  For a Redis without functions, gen.pl
-- puts before each script what the script calls of it (its functions,
-- by name, and the rest of this file), so a call defines no closure it
-- does not use; `gen.pl --body <script>` prints that text, `gen.pl
-- --library` the library (the line numbers of a Redis error are its).
--
-- Keys (layout 3).  A tenant T has a fixed set of keys, all with the
-- prefix "scim:{T}:" (the hash tag {T}: one Redis Cluster slot), in this
-- order (the same in ngx_scim_store_keys[] in store/ngx_scim_store.c and
-- in ScimLua::keys in t/lib/ScimLua.pm):
--
--    1 User:docs              hash    id -> stored user (JSON, version
--                                     last)
--    2 User:display           hash    id -> displayName (else userName);
--                                     the type of an id
--    3 Group:display          hash    id -> displayName
--    4 User:manager           hash    id -> the manager's id
--    5 memberof               zset    "<member id>\0<group id>" (score 0)
--    6 User:idx:userName      hash    folded userName -> id
--    7 User:idx:externalId    zset    "<externalId>\0<id>" (score 0)
--    8 Group:docs             hash    id -> stored group (no members)
--    9 members                zset    "<group id>\0<member id>": the
--                                     reverse of memberof
--   10 Group:idx:displayName  hash    folded displayName -> id
--   11 Group:idx:externalId   zset    "<externalId>\0<id>" (score 0)
--   12 User:ids               zset    id, scored by creation sequence
--   13 Group:ids              zset
--   14 seq                    string  creation order, versions
--   15 User:idx:email         zset    "<folded e-mail>\0<id>" (score 0)
--   16 User:reports           zset    "<manager id>\0<user id>" (score
--                                     0): the reverse of User:manager
--   17 events                 stream  the change events (event()): the
--                                     writes' only
--
-- A script takes the first n of them as KEYS, as its line "--! keys n"
-- says, or as many as the call needs within "--! keys m-n": enough for
-- every key it may touch, whatever the data.  The order puts what the
-- hot reads need first: a user's GET takes 5 (up to memberof), a
-- group's 9 (up to members), a filter by an index up to that index (a
-- user's userName 6), fetch 9, page and scan 13, the writes all 17.
-- User:reports and events came last (issue 11), so that the positions of
-- the others stay.
-- gen.pl puts "if #KEYS < m or #KEYS > n then error end" first in the
-- script's text; store/ngx_scim_store.c decides the count of a call.
--
-- No script builds a key name: whatever it reads or decides (a member's
-- id, an id from an index or the ids zset) is a field of a hash or a
-- member of a zset among these keys, never part of a key.  So every key
-- a script touches is declared, whatever the data (the Redis Cluster
-- precondition).
--
-- The members of group g: ZRANGEBYLEX members "[g\0" "(g\1"; the groups
-- of m: the same on memberof (ids never hold \0 or \1).
--
-- An externalId is not unique (RFC 7643 3.1): its index holds an entry
-- a resource, "<externalId>\0<id>".  An externalId may hold \0 (JSON
-- \u0000): the range "[v\0" "(v\1" then also holds the entries of the
-- longer values that start with v\0, which extids() drops, since what
-- follows v\0 in an entry of v itself is an id, and ids never hold \0.
--
-- The scripts address the keys as KEYS[n], n as in the table above
-- (named locals or a table of names would cost a script call about a
-- microsecond: Lua builds them, and the closures that hold them, on
-- every call); typed(t) gives those of type t ('User' | 'Group'): its
-- documents, its ids zset, its name index and its externalId index.

local function typed(t)
  if t == 'User' then return KEYS[1], KEYS[12], KEYS[6], KEYS[7] end
  if t == 'Group' then return KEYS[8], KEYS[13], KEYS[10], KEYS[11] end
  error('scim: no type ' .. tostring(t))
end

-- the ids paired with id in a membership zset (members, KEYS[9]: the
-- members of group id; memberof, KEYS[5]: the groups of member id)
local function related(z, id)
  local e = id .. '\0'
  local r = redis.call('ZRANGEBYLEX', z, '[' .. e, '(' .. id .. '\1')
  local n = #e + 1
  for i = 1, #r do r[i] = string.sub(r[i], n) end
  return r
end

-- the ids whose externalId is v exactly, in index z; the first at most
-- (n ~= nil) other than skip
local function extids(z, v, n, skip)
  local e = v .. '\0'
  local r, off = {}, 0
  while true do
    local page = redis.call('ZRANGEBYLEX', z, '[' .. e, '(' .. v .. '\1',
                            'LIMIT', off, 1000)
    for _, m in ipairs(page) do
      local id = string.sub(m, #e + 1)
      if id ~= skip and not string.find(id, '\0', 1, true) then
        r[#r + 1] = id
        if n and #r >= n then return r end
      end
    end
    if #page < 1000 then return r end
    off = off + 1000
  end
end

-- the version at the end of a stored document, and a document ending
-- with one: ..."version":"W/\"<n>\""}}; matched in its last 64 bytes
-- (the tail is 20 and the digits): a pattern anchored at the end alone
-- is tried at every position of the text, about 5 us for 1 KB
local function version_of(doc)
  return string.match(string.sub(doc, -64), '"version":"W/\\"(%d+)\\""}}$')
end

local function with_version(head, seq)
  return head .. 'W/\\"' .. seq .. '\\""}}'
end

-- ARGV[i] = count, then count values: the list and the index after it
local function list(i)
  local n = tonumber(ARGV[i])
  local l = {}
  for k = 1, n do l[k] = ARGV[i + k] end
  return l, i + n + 1
end

-- 'User', 'Group' or nil, by User:display and Group:display
local function kind(id)
  if redis.call('HEXISTS', KEYS[2], id) == 1 then
    return 'User'
  end
  if redis.call('HEXISTS', KEYS[3], id) == 1 then
    return 'Group'
  end
  return nil
end

-- the groups that hold group g, directly or not, and g: a set (memberof
-- upwards)
local function ancestors(g)
  local seen, todo = {[g] = true}, {g}
  while #todo > 0 do
    local x = table.remove(todo)
    for _, p in ipairs(related(KEYS[5], x)) do
      if not seen[p] then
        seen[p] = true
        todo[#todo + 1] = p
      end
    end
  end
  return seen
end

-- the first id of add that is neither a user nor a group (or is the
-- group gid itself), or nil; with 'cycle' the first group of add that
-- holds gid, directly or not (adding it would close a cycle)
local function check(gid, add)
  local up
  for _, m in ipairs(add) do
    local k = kind(m)
    if m == gid or not k then return m end
    if k == 'Group' then
      up = up or ancestors(gid)
      if up[m] then return m, 'cycle' end
    end
  end
  return nil
end

-- a group's member changes, on members and memberof; with track, the
-- ids that went in and those that went out, for its event (one out and
-- back in is neither)
local function members(gid, clear, rem, add, track)
  local out, gone, inn = {}, {}, {}
  if clear then
    for _, m in ipairs(related(KEYS[9], gid)) do
      redis.call('ZREM', KEYS[5], m .. '\0' .. gid)
      if track then out[#out + 1] = m; gone[m] = true end
    end
    redis.call('ZREMRANGEBYLEX', KEYS[9], '[' .. gid .. '\0',
               '(' .. gid .. '\1')
  end
  for _, m in ipairs(rem) do
    if redis.call('ZREM', KEYS[9], gid .. '\0' .. m) == 1 then
      redis.call('ZREM', KEYS[5], m .. '\0' .. gid)
      if track then out[#out + 1] = m; gone[m] = true end
    end
  end
  for _, m in ipairs(add) do
    if redis.call('ZADD', KEYS[9], 0, gid .. '\0' .. m) == 1 then
      redis.call('ZADD', KEYS[5], 0, m .. '\0' .. gid)
      if gone[m] then gone[m] = false
      elseif track then inn[#inn + 1] = m end
    end
  end
  if not track then return end
  local o = {}
  for _, m in ipairs(out) do
    if gone[m] then o[#o + 1] = m; gone[m] = false end
  end
  return inn, o
end

-- a user's manager's current display name (User:manager, then
-- User:display), or false
local function mdisplay(t, id)
  if t ~= 'User' then return false end
  local m = redis.call('HGET', KEYS[4], id)
  if not m then return false end
  return redis.call('HGET', KEYS[2], m)
end

-- keeps User:manager and User:reports in step with a user's document
-- ('' = none)
local function manager(t, id, m)
  if t ~= 'User' then return end
  local old = redis.call('HGET', KEYS[4], id)
  if old == m then return end
  if old then redis.call('ZREM', KEYS[16], old .. '\0' .. id) end
  if m == '' then
    redis.call('HDEL', KEYS[4], id)
  else
    redis.call('HSET', KEYS[4], id, m)
    redis.call('ZADD', KEYS[16], 0, m .. '\0' .. id)
  end
end

-- a manager a user may be given: '' (none), the current one, or another
-- user of the tenant (not the user itself)
local function manager_ok(t, id, m)
  if t ~= 'User' or m == '' then return true end
  if redis.call('HGET', KEYS[4], id) == m then return true end
  return m ~= id and redis.call('HEXISTS', KEYS[2], m) == 1
end

-- the stored document of a user without its enterprise manager m, at
-- version n and lastModified now, or nil if its text is not of the shape
-- this module writes: the manager is the last attribute of the
-- enterprise block (schema order), and its {"value": id} text cannot
-- occur unescaped inside a string
local function unmanaged(doc, m, now, n)
  local ent = '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{'
  local tail = '"manager":{"value":"' .. m .. '"}}'
  local s, e = string.find(doc, ent, 1, true)
  if not s then return nil end
  if string.sub(doc, e + 1, e + #tail) == tail then
    -- the block's only attribute: the block goes, with its comma
    if string.sub(doc, s - 1, s - 1) ~= ',' then return nil end
    doc = string.sub(doc, 1, s - 2) .. string.sub(doc, e + #tail + 1)
  else
    local c = string.find(doc, ',' .. tail, e, true)
    if not c then return nil end
    doc = string.sub(doc, 1, c - 1) .. '}' .. string.sub(doc, c + #tail + 1)
  end
  local head = string.match(doc,
    '^(.*"lastModified":")[^"]*","version":"W/\\"%d+\\""}}$')
  if not head then return nil end
  return with_version(head .. now .. '","version":"', n)
end

-- a user's e-mails in the e-mail index (User:idx:email): the old ones
-- that are not new out, the new ones that were not there in (an entry is
-- "<e-mail>\0<id>": one a value, however many times the user holds it);
-- one ZREM and one ZADD (of at most 100 each), none when they are the
-- same (a write that leaves the e-mails alone)
local function emails(id, old, new)
  local was, keep, out, inn = {}, {}, {}, {}
  for _, e in ipairs(new) do keep[e] = true end
  for _, e in ipairs(old) do
    if not was[e] and not keep[e] then out[#out + 1] = e end
    was[e] = true
  end
  for _, e in ipairs(new) do
    if not was[e] then inn[#inn + 1] = e; was[e] = true end
  end
  for i = 1, #out, 100 do
    local a = {'ZREM', KEYS[15]}
    for k = i, math.min(i + 99, #out) do a[#a + 1] = out[k] .. '\0' .. id end
    redis.call(unpack(a))
  end
  for i = 1, #inn, 100 do
    local a = {'ZADD', KEYS[15]}
    for k = i, math.min(i + 99, #inn) do
      a[#a + 1] = 0
      a[#a + 1] = inn[k] .. '\0' .. id
    end
    redis.call(unpack(a))
  end
end

-- {doc, manager display, id, type, display, ...}: a document of type t
-- with its user's groups or (want == '1') its group's members, or false
-- if there is no document; the displays and types of the groups or
-- members from Group:display and User:display
local function expand(t, id, want)
  local doc = redis.call('HGET', (typed(t)), id)
  if not doc then return false end
  local r = {doc, mdisplay(t, id)}
  local ids
  if t == 'User' then
    ids = related(KEYS[5], id)
  elseif want == '1' then
    ids = related(KEYS[9], id)
  else
    return r
  end
  for i = 1, #ids, 1000 do
    local chunk = ids
    if #ids > 1000 then
      chunk = {unpack(ids, i, math.min(i + 999, #ids))}
    end
    local gn = redis.call('HMGET', KEYS[3], unpack(chunk))
    local un = {}
    if t == 'Group' then
      un = redis.call('HMGET', KEYS[2], unpack(chunk))
    end
    for j = 1, #chunk do
      if un[j] then
        r[#r + 1] = chunk[j]; r[#r + 1] = 'User'; r[#r + 1] = un[j]
      elseif gn[j] then
        r[#r + 1] = chunk[j]; r[#r + 1] = 'Group'; r[#r + 1] = gn[j]
      end
    end
  end
  return r
end

-- The change event of a write (issue 11), appended to the tenant's
-- stream (KEYS[17]) in the script that writes, so that it exists exactly
-- when the change does.  ARGV[e] onwards, after the script's own
-- arguments: maxlen (none or '': events off, no XADD), type ('create',
-- 'replace', 'patch', 'members', 'delete'), time, active ('true' or
-- 'false' when the write changed it, else ''), paths (a PATCH's, a JSON
-- array, or '').  kind: another type (then no active, and paths as
-- given); inn, out: a group's members that went in and out (the first
-- 100 of each, and their counts).
local function event(e, kind, t, id, v, inn, out, paths)
  local max = ARGV[e]
  if max == nil or max == '' then return end
  local a = {'XADD', KEYS[17], 'MAXLEN', '~', max, '*',
             'type', kind or ARGV[e + 1], 'resourceType', t, 'id', id,
             'version', tostring(v), 'time', ARGV[e + 2]}
  if not kind and ARGV[e + 3] ~= '' then
    a[#a + 1] = 'active'; a[#a + 1] = ARGV[e + 3]
  end
  paths = paths or (not kind and ARGV[e + 4]) or ''
  if paths ~= '' then a[#a + 1] = 'paths'; a[#a + 1] = paths end
  for _, l in ipairs({{'added', inn}, {'removed', out}}) do
    local ids = l[2]
    if ids and #ids > 0 then
      local n = math.min(#ids, 100)
      a[#a + 1] = l[1]
      a[#a + 1] = cjson.encode({unpack(ids, 1, n)})
      a[#a + 1] = l[1] .. 'Count'; a[#a + 1] = tostring(#ids)
    end
  end
  redis.call(unpack(a))
end

-- deletes document id of type t, at version v, with its index entries
-- (its folded name, its externalId ext, a user's folded e-mails em) and
-- its memberships (as a member: out of every group; as a group: its
-- members out); a user's reports lose it as their manager, each at a new
-- version and lastModified now (a document not of this module's shape
-- keeps its text, and leaves the indexes all the same); its event's
-- arguments from ARGV[e] (event())
local function drop(t, id, v, name, ext, em, now, e)
  local docs, ids, iname, iext = typed(t)
  redis.call('HDEL', docs, id)
  redis.call('ZREM', ids, id)
  if redis.call('HGET', iname, name) == id then
    redis.call('HDEL', iname, name)
  end
  if ext ~= '' then redis.call('ZREM', iext, ext .. '\0' .. id) end
  redis.call('HDEL', t == 'User' and KEYS[2] or KEYS[3], id)  -- display
  -- out of every group: members entries of the groups memberof lists
  -- (an empty range needs no ZREMRANGEBYLEX: most users are in no
  -- group and manage nobody)
  local gs = related(KEYS[5], id)
  for _, g in ipairs(gs) do
    redis.call('ZREM', KEYS[9], g .. '\0' .. id)
  end
  if #gs > 0 then
    redis.call('ZREMRANGEBYLEX', KEYS[5], '[' .. id .. '\0',
               '(' .. id .. '\1')
  end
  if t == 'Group' then members(id, true, {}, {}) end
  manager(t, id, '')
  event(e, nil, t, id, v)
  if t ~= 'User' then return end
  emails(id, em, {})
  local rs = related(KEYS[16], id)
  for _, r in ipairs(rs) do
    local d = redis.call('HGET', KEYS[1], r)
    if d then
      local rn = redis.call('INCR', KEYS[14])
      local nd = unmanaged(d, id, now, rn)
      if nd then
        redis.call('HSET', KEYS[1], r, nd)
        event(e, 'patch', 'User', r, rn, nil, nil, '["urn:ietf:params:'
              .. 'scim:schemas:extension:enterprise:2.0:User:manager"]')
      end
    end
    redis.call('HDEL', KEYS[4], r)
  end
  if #rs > 0 then
    redis.call('ZREMRANGEBYLEX', KEYS[16], '[' .. id .. '\0',
               '(' .. id .. '\1')
  end
end

-- (end of the library)
