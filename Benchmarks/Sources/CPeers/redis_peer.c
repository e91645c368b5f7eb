// The Redis peer: one hash per record, one Lua script per operation (check and update run
// atomically inside the server), called with EVALSHA over loopback through hiredis.
#include "CPeers.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct redispeer {
    redisContext *c;
    char allocate_sha[41], release_sha[41];
};

// KEYS[1] the record hash; ARGV[1] index, ARGV[2] amount (integers, 10^-18 units as int64).
// Returns 0 applied, else the refusal code.
static const char *allocate_lua =
    "local r = redis.call('HMGET', KEYS[1], 'count', 'credit', '1', ARGV[1])\n"
    "local i, a = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "if i < 2 or i >= tonumber(r[1]) then return 3 end\n"
    "if a <= 0 then return 4 end\n"
    "if a > tonumber(r[3]) + tonumber(r[2]) then return 5 end\n"
    "redis.call('HINCRBY', KEYS[1], '1', -a)\n"
    "redis.call('HINCRBY', KEYS[1], ARGV[1], a)\n"
    "return 0\n";
static const char *release_lua =
    "local r = redis.call('HMGET', KEYS[1], 'count', ARGV[1])\n"
    "local i, a = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "if i < 2 or i >= tonumber(r[1]) then return 3 end\n"
    "if a <= 0 then return 4 end\n"
    "if a > tonumber(r[2]) then return 6 end\n"
    "redis.call('HINCRBY', KEYS[1], ARGV[1], -a)\n"
    "redis.call('HINCRBY', KEYS[1], '1', a)\n"
    "return 0\n";

static int load(redispeer *p, const char *script, char *sha) {
    redisReply *r = redisCommand(p->c, "SCRIPT LOAD %s", script);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
        fprintf(stderr, "redis: SCRIPT LOAD failed: %s\n", r && r->str ? r->str : p->c->errstr);
        if (r) freeReplyObject(r);
        return -1;
    }
    memcpy(sha, r->str, 41);
    freeReplyObject(r);
    return 0;
}

redispeer *redispeer_open(int port, int count, int64_t balance) {
    redispeer *p = calloc(1, sizeof *p);
    struct timeval tv = {2, 0};
    p->c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!p->c || p->c->err) {
        fprintf(stderr, "redis: connect 127.0.0.1:%d: %s\n", port, p->c ? p->c->errstr : "out of memory");
        return NULL;
    }
    redisSetTimeout(p->c, tv);
    redisReply *r = redisCommand(p->c, "DEL bench:KRAKEN:USDC");
    if (r) freeReplyObject(r);
    r = redisCommand(p->c, "HSET bench:KRAKEN:USDC count %d credit 0", count);
    if (r) freeReplyObject(r);
    for (int i = 0; i < count; i++) {
        r = redisCommand(p->c, "HSET bench:KRAKEN:USDC %d %lld", i, (long long)(i < 2 ? balance : 0));
        if (r) freeReplyObject(r);
    }
    if (load(p, allocate_lua, p->allocate_sha) || load(p, release_lua, p->release_sha)) return NULL;
    return p;
}

static int call(redispeer *p, const char *sha, int index, int64_t amount) {
    redisReply *r = redisCommand(p->c, "EVALSHA %s 1 bench:KRAKEN:USDC %d %lld", sha, index, (long long)amount);
    if (!r) return -1;
    int rc = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -2;
    freeReplyObject(r);
    return rc;
}

int redispeer_allocate(redispeer *p, int index, int64_t amount) { return call(p, p->allocate_sha, index, amount); }
int redispeer_release(redispeer *p, int index, int64_t amount) { return call(p, p->release_sha, index, amount); }

void redispeer_close(redispeer *p) {
    redisFree(p->c);
    free(p);
}
