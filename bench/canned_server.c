/*
 * canned_server: a MongoDB wire-protocol server that answers from
 * precomputed replies, so that a benchmark measures the CLIENT.
 *
 * Written for Motor's benchmark harness (bench/run.py builds it with gcc
 * and feeds it the replies). One thread, epoll, non-blocking sockets.
 *
 *   canned_server PORT RULES_FILE [CERT_FILE KEY_FILE]
 *
 * Prints "READY <port>\n" on stdout once it listens (PORT 0 picks a free one).
 *
 * TLS: built with -DCANNED_TLS (and -lssl -lcrypto), and given a certificate
 * chain and its key, it speaks only TLS (OpenSSL, non-blocking handshake,
 * reads and writes). Replies queued in one pass go out through one SSL_write,
 * as a server with a write buffer would send them; everything else is the same.
 *
 * Requests understood:
 *   OP_QUERY (2004)  the legacy handshake: answered with the "hello" rule,
 *                    framed as OP_REPLY.
 *   OP_MSG (2013)    the command is the body's first element. A rule matches
 *                    its name (isMaster/ismaster count as hello) and, when the
 *                    rule names one, the string value (the collection).
 *                    Rules with several batches open a cursor: the first batch
 *                    goes out with a fresh cursor id patched in, each getMore
 *                    on that id gets the next batch (the last carries id 0).
 *                    killCursors forgets the cursors. Anything without a rule
 *                    gets {ok: 1}. Requests with moreToCome get no reply.
 *   {benchLoad: "<rules file>"}  replaces the rules (the harness does this
 *                    between benchmarks, while no client is busy).
 *
 * RULES_FILE, one rule per line:
 *   rule CMD COLL CURSOR_ID_OFFSET BATCH_FILE [BATCH_FILE...]
 * COLL is "*" for any, "*.files" for any ending in ".files"; CURSOR_ID_OFFSET is where the int64 cursor id sits in
 * each batch document (-1: no cursor); each BATCH_FILE holds one BSON reply
 * document.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <unistd.h>
#ifdef CANNED_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#define OP_REPLY 1
#define OP_QUERY 2004
#define OP_MSG 2013
#define HEAD_MAX 128
#define MAX_CURSORS 8192
#define MAX_RULES 64
#define MAX_BATCHES 4096

typedef struct {
    char cmd[64];
    char coll[256];
    long cursor_offset;
    int nbatches;
    uint8_t **batches;
    uint32_t *sizes;
} rule_t;

typedef struct {
    int64_t id;
    rule_t *rule;
    int next;
} cursor_t;

typedef struct {
    uint8_t head[HEAD_MAX];
    size_t headlen;
    const uint8_t *tail;
    size_t taillen;
    size_t off; /* bytes already written */
} reply_t;

typedef struct {
    int fd;
    uint8_t *in;
    size_t incap, inlen;
    reply_t *out;
    size_t outcap, outhead, outlen; /* ring-less: compacted when drained */
    int want_out;
#ifdef CANNED_TLS
    SSL *ssl;
    int handshaking;
    uint8_t *tbuf; /* plaintext waiting for SSL_write */
    size_t tcap, toff, tlen;
    size_t tretry; /* length of an SSL_write to repeat as it was (WANT_WRITE) */
#endif
} conn_t;

static rule_t rules[MAX_RULES];
static int nrules;
static cursor_t cursors[MAX_CURSORS];
static int64_t next_cursor_id = 1000;
static int epfd;
static int32_t next_request_id = 1;
static uint8_t ok_doc[] = {17, 0, 0, 0, 0x01, 'o', 'k', 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0};
static uint8_t no_cursor_doc[128];
static uint32_t no_cursor_len;
#ifdef CANNED_TLS
static SSL_CTX *tls_ctx; /* NULL: plain TCP */
#endif

static void die(const char *what) {
    perror(what);
    exit(1);
}

static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static uint8_t *read_file(const char *path, uint32_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (!buf || fread(buf, 1, n, f) != (size_t)n) die(path);
    fclose(f);
    *size = (uint32_t)n;
    return buf;
}

static void free_rules(void) {
    for (int i = 0; i < nrules; i++) {
        for (int b = 0; b < rules[i].nbatches; b++) free(rules[i].batches[b]);
        free(rules[i].batches);
        free(rules[i].sizes);
    }
    nrules = 0;
    memset(cursors, 0, sizeof cursors);
}

static int load_rules(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    free_rules();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char *save = NULL;
        char *tok = strtok_r(line, " \t\n", &save);
        if (!tok || strcmp(tok, "rule") != 0) continue;
        if (nrules >= MAX_RULES) {
            fprintf(stderr, "too many rules\n");
            break;
        }
        rule_t *r = &rules[nrules];
        memset(r, 0, sizeof *r);
        char *cmd = strtok_r(NULL, " \t\n", &save);
        char *coll = strtok_r(NULL, " \t\n", &save);
        char *off = strtok_r(NULL, " \t\n", &save);
        if (!cmd || !coll || !off) continue;
        snprintf(r->cmd, sizeof r->cmd, "%s", cmd);
        snprintf(r->coll, sizeof r->coll, "%s", coll);
        r->cursor_offset = strtol(off, NULL, 10);
        r->batches = calloc(MAX_BATCHES, sizeof *r->batches);
        r->sizes = calloc(MAX_BATCHES, sizeof *r->sizes);
        char *file;
        while ((file = strtok_r(NULL, " \t\n", &save)) && r->nbatches < MAX_BATCHES) {
            r->batches[r->nbatches] = read_file(file, &r->sizes[r->nbatches]);
            r->nbatches++;
        }
        if (r->nbatches > 0) nrules++;
    }
    free(line);
    fclose(f);
    return 0;
}

static rule_t *find_rule(const char *cmd, const char *coll) {
    for (int i = 0; i < nrules; i++) {
        if (strcmp(rules[i].cmd, cmd) != 0) continue;
        const char *want = rules[i].coll;
        if (want[0] == '*' && want[1] == 0) return &rules[i];
        if (!coll) continue;
        if (want[0] == '*') { /* "*.files": any collection ending so */
            size_t lw = strlen(want + 1), lc = strlen(coll);
            if (lc >= lw && strcmp(coll + lc - lw, want + 1) == 0) return &rules[i];
        } else if (strcmp(want, coll) == 0) {
            return &rules[i];
        }
    }
    return NULL;
}

static void make_no_cursor_doc(void) {
    /* {ok: 0.0, errmsg: "cursor not found", code: 43} */
    uint8_t *p = no_cursor_doc + 4;
    const char *msg = "cursor not found";
    double zero = 0.0;
    *p++ = 0x01; memcpy(p, "ok", 3); p += 3; memcpy(p, &zero, 8); p += 8;
    *p++ = 0x02; memcpy(p, "errmsg", 7); p += 7;
    wr32(p, (uint32_t)strlen(msg) + 1); p += 4; memcpy(p, msg, strlen(msg) + 1); p += strlen(msg) + 1;
    *p++ = 0x10; memcpy(p, "code", 5); p += 5; wr32(p, 43); p += 4;
    *p++ = 0;
    no_cursor_len = (uint32_t)(p - no_cursor_doc);
    wr32(no_cursor_doc, no_cursor_len);
}

static reply_t *push_reply(conn_t *c) {
    if (c->outhead + c->outlen == c->outcap) {
        if (c->outhead > 0) {
            memmove(c->out, c->out + c->outhead, c->outlen * sizeof(reply_t));
            c->outhead = 0;
        } else {
            c->outcap = c->outcap ? c->outcap * 2 : 4;
            c->out = realloc(c->out, c->outcap * sizeof(reply_t));
            if (!c->out) die("realloc");
        }
    }
    reply_t *r = &c->out[c->outhead + c->outlen++];
    r->off = 0;
    return r;
}

/* Queue an OP_MSG (or OP_REPLY) carrying doc, patching the cursor id. */
static void queue_doc(conn_t *c, int32_t response_to, int op_reply, const uint8_t *doc, uint32_t doclen,
                      long cursor_offset, int64_t cursor_id) {
    reply_t *r = push_reply(c);
    size_t prefix = op_reply ? 16 + 20 : 16 + 5;
    uint32_t total = (uint32_t)(prefix + doclen);
    uint8_t *h = r->head;
    wr32(h, total);
    wr32(h + 4, (uint32_t)next_request_id++);
    wr32(h + 8, (uint32_t)response_to);
    if (op_reply) {
        wr32(h + 12, OP_REPLY);
        memset(h + 16, 0, 20);
        wr32(h + 32, 1); /* numberReturned */
    } else {
        wr32(h + 12, OP_MSG);
        wr32(h + 16, 0);
        h[20] = 0; /* section kind 0 */
    }
    size_t inhead = doclen < HEAD_MAX - prefix ? doclen : HEAD_MAX - prefix;
    memcpy(h + prefix, doc, inhead);
    if (cursor_offset >= 0 && (size_t)cursor_offset + 8 <= inhead) memcpy(h + prefix + cursor_offset, &cursor_id, 8);
    r->headlen = prefix + inhead;
    r->tail = doc + inhead;
    r->taillen = doclen - inhead;
}

static void set_out_interest(conn_t *c, int want) {
    if (c->want_out == want) return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

#ifdef CANNED_TLS
/* TLS: the queued replies, copied in a row into the plaintext buffer, go out
 * through SSL_write (records of up to 16 KiB); returns -1 if the connection died. */
static int flush_out_tls(conn_t *c) {
    for (; c->outlen; c->outhead++, c->outlen--) {
        reply_t *r = &c->out[c->outhead];
        size_t need = r->headlen + r->taillen;
        if (c->tretry == 0 && c->toff) {
            memmove(c->tbuf, c->tbuf + c->toff, c->tlen - c->toff);
            c->tlen -= c->toff;
            c->toff = 0;
        }
        if (c->tlen + need > c->tcap) {
            size_t cap = c->tcap ? c->tcap : 64 * 1024;
            while (cap < c->tlen + need) cap *= 2;
            c->tbuf = realloc(c->tbuf, cap);
            if (!c->tbuf) die("realloc");
            c->tcap = cap;
        }
        memcpy(c->tbuf + c->tlen, r->head, r->headlen);
        memcpy(c->tbuf + c->tlen + r->headlen, r->tail, r->taillen);
        c->tlen += need;
    }
    c->outhead = 0;
    while (c->toff < c->tlen) {
        size_t len = c->tretry ? c->tretry : c->tlen - c->toff;
        ERR_clear_error(); /* SSL_get_error reads the thread's error queue */
        int w = SSL_write(c->ssl, c->tbuf + c->toff, (int)(len > 1u << 30 ? 1u << 30 : len));
        if (w <= 0) {
            int err = SSL_get_error(c->ssl, w);
            if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
                c->tretry = len > 1u << 30 ? 1u << 30 : len;
                set_out_interest(c, err == SSL_ERROR_WANT_WRITE);
                return 0;
            }
            return -1;
        }
        c->tretry = 0;
        c->toff += (size_t)w;
    }
    c->toff = c->tlen = 0;
    set_out_interest(c, 0);
    return 0;
}
#endif

/* Write what we can; returns -1 if the connection died. */
static int flush_out(conn_t *c) {
#ifdef CANNED_TLS
    if (c->ssl) return flush_out_tls(c);
#endif
    while (c->outlen) {
        reply_t *r = &c->out[c->outhead];
        struct iovec iov[2];
        int n = 0;
        if (r->off < r->headlen) {
            iov[n].iov_base = r->head + r->off;
            iov[n].iov_len = r->headlen - r->off;
            n++;
            if (r->taillen) {
                iov[n].iov_base = (void *)r->tail;
                iov[n].iov_len = r->taillen;
                n++;
            }
        } else {
            size_t t = r->off - r->headlen;
            iov[n].iov_base = (void *)(r->tail + t);
            iov[n].iov_len = r->taillen - t;
            n++;
        }
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_out_interest(c, 1);
                return 0;
            }
            if (errno == EINTR) continue;
            return -1;
        }
        r->off += (size_t)w;
        if (r->off == r->headlen + r->taillen) {
            c->outhead++;
            c->outlen--;
        }
    }
    c->outhead = 0;
    set_out_interest(c, 0);
    return 0;
}

static void cstr_copy(char *dst, size_t cap, const uint8_t *src, const uint8_t *end) {
    size_t i = 0;
    while (src + i < end && src[i] && i + 1 < cap) {
        dst[i] = (char)src[i];
        i++;
    }
    dst[i] = 0;
}

static void handle_msg(conn_t *c, const uint8_t *m, uint32_t len) {
    int32_t request_id = (int32_t)rd32(m + 4);
    uint32_t op = rd32(m + 12);
    if (op == OP_QUERY) {
        rule_t *r = find_rule("hello", NULL);
        if (r)
            queue_doc(c, request_id, 1, r->batches[0], r->sizes[0], -1, 0);
        else
            queue_doc(c, request_id, 1, ok_doc, sizeof ok_doc, -1, 0);
        return;
    }
    if (op != OP_MSG || len < 21 + 5) {
        queue_doc(c, request_id, 0, ok_doc, sizeof ok_doc, -1, 0);
        return;
    }
    uint32_t flags = rd32(m + 16);
    const uint8_t *end = m + len - ((flags & 1) ? 4 : 0);
    const uint8_t *doc = NULL;
    for (const uint8_t *p = m + 20; p < end;) {
        uint8_t kind = *p++;
        if (kind == 0) {
            doc = p;
            p += rd32(p);
        } else {
            p += rd32(p);
        }
    }
    int more_to_come = (flags & 2) != 0;
    if (!doc) {
        if (!more_to_come) queue_doc(c, request_id, 0, ok_doc, sizeof ok_doc, -1, 0);
        return;
    }
    uint8_t type = doc[4];
    char cmd[64];
    cstr_copy(cmd, sizeof cmd, doc + 5, end);
    const uint8_t *value = doc + 5 + strlen(cmd) + 1;
    char coll[256] = "";
    int64_t int_value = 0;
    if (type == 0x02) cstr_copy(coll, sizeof coll, value + 4, end);
    if (type == 0x12) memcpy(&int_value, value, 8);
    if (!strcmp(cmd, "isMaster") || !strcmp(cmd, "ismaster")) strcpy(cmd, "hello");

    if (!strcmp(cmd, "benchLoad")) {
        load_rules(coll);
        if (!more_to_come) queue_doc(c, request_id, 0, ok_doc, sizeof ok_doc, -1, 0);
        return;
    }
    if (more_to_come) return;
    if (!strcmp(cmd, "getMore")) {
        cursor_t *cur = &cursors[int_value % MAX_CURSORS];
        if (cur->id != int_value || !cur->rule || int_value == 0) {
            queue_doc(c, request_id, 0, no_cursor_doc, no_cursor_len, -1, 0);
            return;
        }
        rule_t *r = cur->rule;
        int b = cur->next++;
        int last = b >= r->nbatches - 1;
        if (last) b = r->nbatches - 1;
        queue_doc(c, request_id, 0, r->batches[b], r->sizes[b], last ? -1 : r->cursor_offset, cur->id);
        if (last) memset(cur, 0, sizeof *cur);
        return;
    }
    if (!strcmp(cmd, "killCursors")) {
        /* Cursors die on their own at their last batch or on reload. */
        queue_doc(c, request_id, 0, ok_doc, sizeof ok_doc, -1, 0);
        return;
    }
    rule_t *r = find_rule(cmd, coll);
    if (!r) {
        queue_doc(c, request_id, 0, ok_doc, sizeof ok_doc, -1, 0);
        return;
    }
    if (r->nbatches > 1 && r->cursor_offset >= 0) {
        int64_t id = next_cursor_id++;
        cursor_t *cur = &cursors[id % MAX_CURSORS];
        cur->id = id;
        cur->rule = r;
        cur->next = 1;
        queue_doc(c, request_id, 0, r->batches[0], r->sizes[0], r->cursor_offset, id);
    } else {
        queue_doc(c, request_id, 0, r->batches[0], r->sizes[0], -1, 0);
    }
}

static void close_conn(conn_t *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
#ifdef CANNED_TLS
    if (c->ssl) SSL_free(c->ssl);
    free(c->tbuf);
#endif
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static void on_readable(conn_t *c) {
    for (;;) {
        if (c->inlen == c->incap) {
            size_t want = c->incap * 2;
            if (c->inlen >= 16) {
                uint32_t msglen = rd32(c->in);
                if (msglen > want) want = msglen;
            }
            c->in = realloc(c->in, want);
            if (!c->in) die("realloc");
            c->incap = want;
        }
#ifdef CANNED_TLS
        if (c->ssl) {
            /* Until OpenSSL wants more from the socket: a short read does not
             * mean the kernel (or OpenSSL's buffer) is drained. */
            ERR_clear_error(); /* another connection's failure must not show here */
            int r = SSL_read(c->ssl, c->in + c->inlen, (int)(c->incap - c->inlen));
            if (r > 0) {
                c->inlen += (size_t)r;
                continue;
            }
            int err = SSL_get_error(c->ssl, r);
            if (err == SSL_ERROR_WANT_READ) break;
            if (err == SSL_ERROR_WANT_WRITE) {
                set_out_interest(c, 1);
                break;
            }
            close_conn(c);
            return;
        }
#endif
        ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
        if (n == 0) {
            close_conn(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            close_conn(c);
            return;
        }
        c->inlen += (size_t)n;
        if ((size_t)n < c->incap - c->inlen + (size_t)n) break; /* drained the kernel buffer */
    }
    size_t pos = 0;
    while (c->inlen - pos >= 16) {
        uint32_t msglen = rd32(c->in + pos);
        if (msglen < 16 || msglen > 64u * 1024 * 1024) {
            close_conn(c);
            return;
        }
        if (c->inlen - pos < msglen) {
            if (msglen > c->incap) {
                /* make room for the whole message at once */
                memmove(c->in, c->in + pos, c->inlen - pos);
                c->inlen -= pos;
                pos = 0;
                c->in = realloc(c->in, msglen);
                if (!c->in) die("realloc");
                c->incap = msglen;
            }
            break;
        }
        handle_msg(c, c->in + pos, msglen);
        pos += msglen;
    }
    if (pos) {
        memmove(c->in, c->in + pos, c->inlen - pos);
        c->inlen -= pos;
    }
    if (c->outlen && flush_out(c) < 0) close_conn(c);
}

#ifdef CANNED_TLS
static void tls_setup(const char *cert, const char *key) {
    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (!tls_ctx || SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls_ctx) != 1) {
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* Drive a server handshake; returns 1 once done, 0 to wait, -1 if it failed. */
static int handshake(conn_t *c) {
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->handshaking = 0;
        set_out_interest(c, 0);
        return 1;
    }
    int err = SSL_get_error(c->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        set_out_interest(c, err == SSL_ERROR_WANT_WRITE);
        return 0;
    }
    return -1;
}
#endif

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s PORT RULES_FILE [CERT_FILE KEY_FILE]\n", argv[0]);
        return 2;
    }
    if (argc == 5) {
#ifdef CANNED_TLS
        tls_setup(argv[3], argv[4]);
#else
        fprintf(stderr, "%s: built without TLS (-DCANNED_TLS)\n", argv[0]);
        return 2;
#endif
    }
    signal(SIGPIPE, SIG_IGN);
    make_no_cursor_doc();
    if (load_rules(argv[2]) < 0) return 1;

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 1024) < 0) die("listen");
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);

    epfd = epoll_create1(0);
    if (epfd < 0) die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
    printf("READY %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epfd, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn_t *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    nc->incap = 64 * 1024;
                    nc->in = malloc(nc->incap);
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
#ifdef CANNED_TLS
                    if (tls_ctx) {
                        nc->ssl = SSL_new(tls_ctx);
                        if (!nc->ssl) die("SSL_new");
                        SSL_set_fd(nc->ssl, fd);
                        SSL_set_accept_state(nc->ssl);
                        nc->handshaking = 1;
                    }
#endif
                }
                continue;
            }
#ifdef CANNED_TLS
            if (c->handshaking) {
                int h = handshake(c);
                if (h < 0) {
                    close_conn(c);
                    continue;
                }
                if (h == 0) continue;
                /* done: the client's first request may already be here */
                on_readable(c);
                continue;
            }
            if (c->ssl && c->tretry && (events[i].events & (EPOLLIN | EPOLLOUT))) {
                /* an SSL_write waiting for the socket (either way) */
                if (flush_out(c) < 0) {
                    close_conn(c);
                    continue;
                }
                if (!(events[i].events & EPOLLIN)) continue;
            } else
#endif
            if (events[i].events & EPOLLOUT) {
                if (flush_out(c) < 0) {
                    close_conn(c);
                    continue;
                }
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
        }
    }
}
