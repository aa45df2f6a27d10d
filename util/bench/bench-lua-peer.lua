-- The Lua peer of make bench (util/bench/bench.sh): the uplink as a user would
-- write it instead of the module, with lua-nginx and cjson from Debian
-- (libnginx-mod-http-lua, lua-cjson), run by access_by_lua_file before
-- the same proxy_pass.  It does what the module does for the bench's pack:
-- the Things-Message-Token checked (SHA-256 of the body and the secret,
-- through LuaJIT's FFI to the libcrypto nginx has loaded), the SenML
-- resolved (base name, time, unit, value, sum), the device URN checked,
-- KPN's fields picked out, and the same envelope sent on in its place.
-- A bench peer, not a product: the module's checks of the SenML rules are
-- not all here (a peer with fewer checks is only faster).
--
-- nginx.conf: set $kpn_secret "..."; access_by_lua_file .../bench-lua-peer.lua;

local cjson = require "cjson.safe"
local ffi = require "ffi"

-- the file runs for every request (access_by_lua_file): what is set up
-- once lives in package.loaded
local peer = package.loaded.kpn_bench_peer
if not peer then
    ffi.cdef [[
    unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);
    ]]
    peer = { md = ffi.new("unsigned char[32]") }
    package.loaded.kpn_bench_peer = peer
end

local md = peer.md
local byte, sub, fmt, concat = string.byte, string.sub, string.format, table.concat

-- cjson's default precision (14 digits) is kept: Debian's lua-cjson takes
-- no more, so the peer's reals may be rounded where the module's are not

local function reject(status, code, message)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.say(cjson.encode({ error = code, message = message }))
    ngx.log(ngx.ERR, "kpn uplink rejected: ", status, " ", code, ": ", message)
    return ngx.exit(status)
end

local function hex(p, n)
    local t = {}
    for i = 0, n - 1 do
        t[i + 1] = fmt("%02x", p[i])
    end
    return concat(t)
end

ngx.req.read_body()
local body = ngx.req.get_body_data()
if not body then
    return reject(400, "empty_body", "the request body is empty")
end

local token = ngx.var.http_things_message_token
if not token then
    return reject(401, "invalid_token", "no Things-Message-Token")
end

local data = body .. ngx.var.kpn_secret
ffi.C.SHA256(data, #data, md)
if hex(md, 32) ~= token:lower() then
    return reject(401, "invalid_token", "the Things-Message-Token does not match")
end

local pack, err = cjson.decode(body)
if type(pack) ~= "table" or pack[1] == nil then
    return reject(400, "invalid_json", err or "the pack must be an array of records")
end

-- RFC 8428, 4.6: the base values run through the pack
local bn, bt, bu, bv, bs = "", 0, nil, 0, nil
local records, kpn = {}, {}
local urn, id

for i, rec in ipairs(pack) do
    if type(rec) ~= "table" then
        return reject(400, "invalid_senml", "record " .. (i - 1) .. ": not an object")
    end
    bn = rec.bn or bn
    bt = rec.bt or bt
    bu = rec.bu or bu
    bv = rec.bv or bv
    bs = rec.bs or bs

    if rec.v ~= nil or rec.vs ~= nil or rec.vb ~= nil or rec.vd ~= nil
       or rec.s ~= nil
    then
        local name = bn .. (rec.n or "")
        if name == "" or name:find("[^%w%-:%./_]") then
            return reject(400, "invalid_senml", "record " .. (i - 1) .. ": invalid name")
        end

        local u, dev, rest = name:match("^(urn:dev:DEVEUI:)(%x+):(.*)$")
        if not u or #dev ~= 16 then
            return reject(422, "unknown_device", "record " .. (i - 1) .. ": no DEVEUI URN")
        end
        dev = dev:upper()
        if id and id ~= dev then
            return reject(422, "unknown_device", "records of several devices")
        end
        id = dev
        urn = u .. dev .. ":"

        local r = { n = urn .. rest, u = rec.u or bu, t = bt + (rec.t or 0) }
        if rec.v ~= nil then
            r.v = bv + rec.v
        end
        r.vs, r.vb, r.vd = rec.vs, rec.vb, rec.vd
        if rec.s ~= nil then
            r.s = (bs or 0) + rec.s
        end
        records[#records + 1] = r

        if rest == "payload" and kpn.payloadHex == nil then
            kpn.payloadHex, kpn.time = r.vs, r.t
        elseif rest == "port" and kpn.port == nil then
            kpn.port = r.v
        elseif rest == "FCntUp" and kpn.fCntUp == nil then
            kpn.fCntUp = r.v
        elseif rest == "LrrRSSI" and kpn.rssi == nil then
            kpn.rssi = r.v
        elseif rest == "LrrSNR" and kpn.snr == nil then
            kpn.snr = r.v
        end
    end
end

if not id then
    return reject(400, "invalid_senml", "the pack has no record with a value")
end

local device_type = ngx.var.http_device_type
if device_type ~= "dragino-lds01" then
    return reject(422, "unknown_device_type", "device type is not configured")
end

kpn.urn, kpn.idType, kpn.deviceType = urn, "DEVEUI", device_type
kpn.time = kpn.time or records[1].t
kpn.messageId = token:lower()

ngx.req.set_body_data(cjson.encode({
    deviceTypeHashId = "wasd2",
    deviceIdentifier = id,
    kpn = kpn,
    records = records,
}))
ngx.req.set_header("Content-Type", "application/json")
