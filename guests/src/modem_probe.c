/* twofold-modem-probe PERSONA DEVICE: the lab's witness of what one persona's virtual modem
 * (dom0's modem backend, seen through Linux hvc_xen as DEVICE, /dev/hvc1) does. Not part of a
 * real persona. Everything it sees goes to stdout, the persona's console, which dom0 relays to
 * the lab's serial log:
 *   TWOFOLD-AT <persona> ready cgmi=<manufacturer>        after its set-up commands
 *   TWOFOLD-AT <persona> > <command> / < <response line>    each exchange (not in ping/flood)
 *   TWOFOLD-AT <persona> urc <line>                         every unsolicited line
 *   TWOFOLD-SMS <persona> index=<i> from=<number> text=<text>
 * The lab drives it the way a phone is driven from outside: by SMS and calls from the modem
 * simulator's control channel. An SMS whose text starts with "do:" is an order, carried out
 * after it is read (scripts/lab.d/test.sh):
 *   do:dial N     ATDN;   then +CLCC         -> "dial N -> <final>", "calls=<n>"
 *   do:clcc       AT+CLCC                    -> "calls=<n>"
 *   do:hangup     ATH                        -> "hangup -> <final>"
 *   do:ping S     AT+CGMI for S seconds      -> "ping start", "ping done n= ok= p50_ms= p99_ms= max_ms="
 *   do:flood S    S seconds of hostile bytes -> "flood start", "flood done bytes= answers= errors= after=<final>"
 *   do:sms N      N text SMS sent at once    -> "sms done n= sent= refused= other= last=<final>"
 *   do:at T CMD   one command line, tagged T -> "at T -> <final> | <info> | ..."   (issue 13)
 *   do:cmgs T     one text SMS, tagged T     -> "cmgs T mr=<reference> -> <final>"
 *   do:store N    N text SMS stored (+CMGW)  -> "store done n= stored= last=<final>"
 *                 (refused: +CMS ERROR: 302 before the body prompt, the policy's sms_per_hour)
 * An SMS routed to the other persona never reaches this one, so an order reaches only the
 * persona the policy routes it to. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum {
    kWaitSeconds = 180,
    kLineMax = 1024,
    kMaxInfoLines = 16,
    kMaxPendingSms = 16,
    kMaxPings = 4096,
};

struct probe {
    const char* persona;
    int fd;
    char in[4096];
    size_t in_len;
    int quiet; /* no per-exchange lines (ping, flood) */
    unsigned pending_sms[kMaxPendingSms];
    size_t pending_count;
};

struct reply {
    char final[kLineMax];
    char info[kMaxInfoLines][kLineMax];
    size_t info_count;
};

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    const struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

static int starts_with(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int is_final(const char* line) {
    return strcmp(line, "OK") == 0 || strcmp(line, "ERROR") == 0 || starts_with(line, "+CME ERROR") ||
           starts_with(line, "+CMS ERROR") || strcmp(line, "NO CARRIER") == 0 || strcmp(line, "BUSY") == 0 ||
           strcmp(line, "NO ANSWER") == 0 || strcmp(line, "NO DIALTONE") == 0 || starts_with(line, "CONNECT");
}

static int is_error(const char* line) { return strcmp(line, "ERROR") == 0 || starts_with(line, "+CME ERROR"); }

static int is_unsolicited(const char* line) {
    static const char* const kPrefixes[] = {"RING", "+CRING", "+CLIP", "+CMTI", "+CMT:", "+CREG", "+CGREG",
                                            "+CEREG", "+CCWA", "+CUSD", "+CIEV", "+CDS", "+CBM", "+CTZV"};
    for (size_t i = 0; i < sizeof kPrefixes / sizeof kPrefixes[0]; ++i) {
        if (starts_with(line, kPrefixes[i])) return 1;
    }
    return 0;
}

/* "+CREG: 1" answers "AT+CREG?": a line named like the command is its answer, not a URC. */
static int answers_command(const char* line, const char* command) {
    const size_t name = strcspn(line, ":");
    return strlen(command) > 2 + name && strncmp(command + 2, line, name) == 0 && strchr("=?;", command[2 + name]) != NULL;
}

/* One line from the modem (CR/LF stripped, empty lines skipped) within timeout_ms:
 * 1 got one, 0 timed out, -1 the device failed. A line longer than kLineMax is cut. */
static int read_line(struct probe* p, int timeout_ms, char* line) {
    const long long deadline = now_ms() + timeout_ms;
    for (;;) {
        size_t start = 0; /* terminators left in front (the LF of CR LF, empty lines) */
        while (start < p->in_len && (p->in[start] == '\r' || p->in[start] == '\n')) ++start;
        size_t end = start;
        while (end < p->in_len && p->in[end] != '\r' && p->in[end] != '\n') ++end;
        if (end < p->in_len) {
            const size_t n = end - start < kLineMax - 1 ? end - start : kLineMax - 1;
            memcpy(line, p->in + start, n);
            line[n] = '\0';
            memmove(p->in, p->in + end + 1, p->in_len - end - 1);
            p->in_len -= end + 1;
            return 1;
        }
        memmove(p->in, p->in + start, p->in_len - start);
        p->in_len -= start;
        if (p->in_len == sizeof p->in) p->in_len = 0; /* a line without end: drop it */
        const long long left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd pfd = {p->fd, POLLIN, 0};
        const int ready = poll(&pfd, 1, (int)left);
        if (ready < 0 && errno != EINTR) return -1;
        if (ready <= 0) continue;
        const ssize_t got = read(p->fd, p->in + p->in_len, sizeof p->in - p->in_len);
        if (got < 0 && errno != EAGAIN && errno != EINTR) return -1;
        if (got > 0) p->in_len += (size_t)got;
    }
}

static int write_all(struct probe* p, const char* data, size_t size, int timeout_ms) {
    const long long deadline = now_ms() + timeout_ms;
    while (size > 0) {
        const ssize_t n = write(p->fd, data, size);
        if (n > 0) {
            data += n;
            size -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
        const long long left = deadline - now_ms();
        if (left <= 0) return -1;
        struct pollfd pfd = {p->fd, POLLOUT, 0};
        poll(&pfd, 1, (int)left);
    }
    return 0;
}

static void note_unsolicited(struct probe* p, const char* line) {
    printf("TWOFOLD-AT %s urc %s\n", p->persona, line);
    if (starts_with(line, "+CMTI:")) {
        const char* comma = strrchr(line, ',');
        if (comma != NULL && p->pending_count < kMaxPendingSms) {
            p->pending_sms[p->pending_count++] = (unsigned)strtoul(comma + 1, NULL, 10);
        }
    }
}

/* Sends one command line and collects its answer. The final is "TIMEOUT" when none came. */
static void at(struct probe* p, const char* command, int timeout_ms, struct reply* r) {
    char line[kLineMax];
    char out[kLineMax + 2];
    memset(r, 0, sizeof *r);
    if (!p->quiet) printf("TWOFOLD-AT %s > %s\n", p->persona, command);
    const int n = snprintf(out, sizeof out, "%s\r", command);
    if (write_all(p, out, (size_t)n, timeout_ms) != 0) {
        snprintf(r->final, sizeof r->final, "WRITE-FAILED");
        return;
    }
    const long long deadline = now_ms() + timeout_ms;
    int body_next = 0; /* the line after a +CMGR header is the message text, whatever it says */
    for (;;) {
        const long long left = deadline - now_ms();
        const int got = left > 0 ? read_line(p, (int)left, line) : 0;
        if (got <= 0) {
            snprintf(r->final, sizeof r->final, got == 0 ? "TIMEOUT" : "READ-FAILED");
            if (!p->quiet) printf("TWOFOLD-AT %s < %s\n", p->persona, r->final);
            return;
        }
        if (!body_next && is_unsolicited(line) && !answers_command(line, command)) {
            note_unsolicited(p, line);
            continue;
        }
        if (!p->quiet) printf("TWOFOLD-AT %s < %s\n", p->persona, line);
        if (!body_next && is_final(line)) {
            snprintf(r->final, sizeof r->final, "%s", line);
            return;
        }
        body_next = starts_with(line, "+CMGR:");
        if (r->info_count < kMaxInfoLines) snprintf(r->info[r->info_count++], kLineMax, "%s", line);
    }
}

static size_t count_prefixed(const struct reply* r, const char* prefix) {
    size_t n = 0;
    for (size_t i = 0; i < r->info_count; ++i) n += starts_with(r->info[i], prefix) ? 1u : 0u;
    return n;
}

/* Answers that arrived late (a command that timed out) must not be taken for the next one's. */
static void drain(struct probe* p, int quiet_ms, int limit_ms) {
    char line[kLineMax];
    const long long deadline = now_ms() + limit_ms;
    while (now_ms() < deadline && read_line(p, quiet_ms, line) == 1) {
        note_unsolicited(p, line);
    }
}

static int compare_ll(const void* a, const void* b) {
    const long long x = *(const long long*)a, y = *(const long long*)b;
    return (x > y) - (x < y);
}

static void ping(struct probe* p, int seconds) {
    long long samples[kMaxPings];
    size_t n = 0, ok = 0;
    struct reply r;
    printf("TWOFOLD-AT %s ping start seconds=%d\n", p->persona, seconds);
    p->quiet = 1;
    const long long end = now_ms() + seconds * 1000LL;
    while (now_ms() < end && n < kMaxPings) {
        const long long t0 = now_ms();
        at(p, "AT+CGMI", 10000, &r);
        samples[n++] = now_ms() - t0;
        ok += strcmp(r.final, "OK") == 0 && r.info_count == 1 ? 1u : 0u;
        sleep_ms(50);
    }
    p->quiet = 0;
    qsort(samples, n, sizeof samples[0], compare_ll);
    printf("TWOFOLD-AT %s ping done n=%zu ok=%zu p50_ms=%lld p99_ms=%lld max_ms=%lld\n", p->persona, n, ok,
           n ? samples[n / 2] : -1, n ? samples[(n * 99) / 100] : -1, n ? samples[n - 1] : -1);
}

/* What a hostile persona writes: binary bytes, an overlong line, NULs, a command reserved to
 * dom0, a broken dial string, an unterminated SMS body, and one valid command per round. */
static size_t flood_round(char* buf, size_t cap, unsigned round) {
    size_t n = 0;
    for (unsigned i = 0; i < 200 && n < cap; ++i) buf[n++] = (char)((i * 37u + round) & 0xffu);
    buf[n++] = '\r';
    for (unsigned i = 0; i < 700 && n < cap; ++i) buf[n++] = 'A';
    buf[n++] = '\r';
    static const char kTail[] = "AT\0\0+CGMI\rAT+CFUN=0\rATD+49\x01\x02;\rAT+CMGS=\"+4911\"\rtext without end\rAT+CGMI\r";
    memcpy(buf + n, kTail, sizeof kTail - 1);
    return n + sizeof kTail - 1;
}

static void flood(struct probe* p, int seconds) {
    char chunk[2048];
    char line[kLineMax];
    unsigned long long bytes = 0, answers = 0, errors = 0;
    unsigned round = 0;
    printf("TWOFOLD-AT %s flood start seconds=%d\n", p->persona, seconds);
    const long long end = now_ms() + seconds * 1000LL;
    size_t len = 0, off = 0;
    while (now_ms() < end) {
        if (off == len) { len = flood_round(chunk, sizeof chunk, round++); off = 0; }
        struct pollfd pfd = {p->fd, POLLIN | POLLOUT, 0};
        if (poll(&pfd, 1, 100) <= 0) continue;
        if (pfd.revents & POLLOUT) {
            const ssize_t n = write(p->fd, chunk + off, len - off);
            if (n > 0) { off += (size_t)n; bytes += (unsigned long long)n; }
        }
        if (pfd.revents & POLLIN) {
            while (read_line(p, 0, line) == 1) {
                ++answers;
                errors += is_error(line) ? 1u : 0u;
            }
        }
    }
    /* The SMS body the flood left open ends with ESC; then every answer is read. */
    write_all(p, "\x1b\r", 2, 2000);
    const long long drain_end = now_ms() + 30000;
    while (now_ms() < drain_end && read_line(p, 2000, line) == 1) {
        ++answers;
        errors += is_error(line) ? 1u : 0u;
    }
    struct reply r;
    at(p, "AT+CGMI", 10000, &r);
    printf("TWOFOLD-AT %s flood done bytes=%llu answers=%llu errors=%llu after=%s\n", p->persona, bytes, answers,
           errors, r.final);
}

/* Waits for the "> " body prompt, which ends no line: 1 prompt, 0 a final (in final), -1 nothing. */
static int wait_prompt(struct probe* p, int timeout_ms, char* final) {
    char line[kLineMax];
    const long long deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        size_t start = 0;
        while (start < p->in_len && (p->in[start] == '\r' || p->in[start] == '\n')) ++start;
        if (p->in_len - start >= 2 && p->in[start] == '>' && p->in[start + 1] == ' ') {
            memmove(p->in, p->in + start + 2, p->in_len - start - 2);
            p->in_len -= start + 2;
            return 1;
        }
        const int got = read_line(p, 100, line);
        if (got < 0) break;
        if (got == 0) continue;
        if (is_final(line)) {
            snprintf(final, kLineMax, "%s", line);
            return 0;
        }
        if (is_unsolicited(line)) note_unsolicited(p, line);
    }
    snprintf(final, kLineMax, "TIMEOUT");
    return -1;
}

/* One text SMS: 1 sent (+CMGS: and OK), 0 refused before the body, -1 anything else. */
static int send_sms(struct probe* p, const char* number, const char* text, char* final) {
    char out[kLineMax];
    int n = snprintf(out, sizeof out, "AT+CMGS=\"%s\"\r", number);
    if (write_all(p, out, (size_t)n, 5000) != 0) { snprintf(final, kLineMax, "WRITE-FAILED"); return -1; }
    const int prompt = wait_prompt(p, 10000, final);
    if (prompt == 0) return starts_with(final, "+CMS ERROR: 302") ? 0 : -1;
    if (prompt < 0) return -1;
    n = snprintf(out, sizeof out, "%s\x1a", text);
    if (write_all(p, out, (size_t)n, 5000) != 0) { snprintf(final, kLineMax, "WRITE-FAILED"); return -1; }
    char line[kLineMax];
    int reference = 0;
    const long long deadline = now_ms() + 20000;
    while (now_ms() < deadline) {
        const int got = read_line(p, (int)(deadline - now_ms()), line);
        if (got <= 0) break;
        if (starts_with(line, "+CMGS:")) { reference = 1; continue; }
        if (is_final(line)) {
            snprintf(final, kLineMax, "%s", line);
            return reference && strcmp(line, "OK") == 0 ? 1 : -1;
        }
        if (is_unsolicited(line)) note_unsolicited(p, line);
    }
    snprintf(final, kLineMax, "TIMEOUT");
    return -1;
}

static void send_many(struct probe* p, int count) {
    char final[kLineMax] = "none";
    char text[64];
    unsigned sent = 0, refused = 0, other = 0;
    p->quiet = 1;
    for (int i = 0; i < count; ++i) {
        snprintf(text, sizeof text, "probe %s message %d", p->persona, i);
        const int r = send_sms(p, "+4915550077", text, final);
        if (r > 0) ++sent; else if (r == 0) ++refused; else ++other;
    }
    p->quiet = 0;
    printf("TWOFOLD-AT %s sms done n=%d sent=%u refused=%u other=%u last=%s\n", p->persona, count, sent, refused,
           other, final);
}

/* "do:at T CMD": the answer on one line, so that the lab can compare two of them. */
static void at_order(struct probe* p, const char* order) {
    char tag[32];
    const char* space = strchr(order, ' ');
    if (space == NULL || (size_t)(space - order) >= sizeof tag) {
        printf("TWOFOLD-AT %s at ? -> bad order\n", p->persona);
        return;
    }
    memcpy(tag, order, (size_t)(space - order));
    tag[space - order] = '\0';
    struct reply r;
    at(p, space + 1, 20000, &r);
    char joined[kLineMax] = "";
    size_t used = 0;
    for (size_t i = 0; i < r.info_count && used < sizeof joined - 1; ++i) {
        const int n = snprintf(joined + used, sizeof joined - used, " | %s", r.info[i]);
        if (n < 0) break;
        used += (size_t)n;
        if (used >= sizeof joined) used = sizeof joined - 1;
    }
    printf("TWOFOLD-AT %s at %s -> %s%s\n", p->persona, tag, r.final, joined);
}

/* One text SMS, reporting its message reference (+CMGS: <mr>). */
static void cmgs_order(struct probe* p, const char* tag) {
    char out[kLineMax], final[kLineMax] = "none", line[kLineMax];
    long mr = -1;
    int n = snprintf(out, sizeof out, "AT+CMGS=\"+4915550077\"\r");
    if (write_all(p, out, (size_t)n, 5000) != 0 || wait_prompt(p, 10000, final) != 1) {
        printf("TWOFOLD-AT %s cmgs %s mr=-1 -> %s\n", p->persona, tag, final);
        return;
    }
    n = snprintf(out, sizeof out, "reference probe\x1a");
    if (write_all(p, out, (size_t)n, 5000) != 0) snprintf(final, sizeof final, "WRITE-FAILED");
    const long long deadline = now_ms() + 20000;
    while (now_ms() < deadline) {
        const int got = read_line(p, (int)(deadline - now_ms()), line);
        if (got <= 0) break;
        if (starts_with(line, "+CMGS:")) { mr = strtol(line + 6, NULL, 10); continue; }
        if (is_final(line)) { snprintf(final, sizeof final, "%s", line); break; }
        if (is_unsolicited(line)) note_unsolicited(p, line);
    }
    printf("TWOFOLD-AT %s cmgs %s mr=%ld -> %s\n", p->persona, tag, mr, final);
}

/* N messages written to the SIM (+CMGW) and kept there: occupancy the other persona must not see. */
static void store_many(struct probe* p, int count) {
    char out[kLineMax], final[kLineMax] = "none", line[kLineMax];
    int stored = 0;
    for (int i = 0; i < count; ++i) {
        int n = snprintf(out, sizeof out, "AT+CMGW=\"+4915550078\"\r");
        if (write_all(p, out, (size_t)n, 5000) != 0 || wait_prompt(p, 10000, final) != 1) continue;
        n = snprintf(out, sizeof out, "stored by %s %d\x1a", p->persona, i);
        if (write_all(p, out, (size_t)n, 5000) != 0) continue;
        const long long deadline = now_ms() + 20000;
        while (now_ms() < deadline) {
            const int got = read_line(p, (int)(deadline - now_ms()), line);
            if (got <= 0) break;
            if (starts_with(line, "+CMGW:")) continue;
            if (is_final(line)) {
                snprintf(final, sizeof final, "%s", line);
                stored += strcmp(line, "OK") == 0 ? 1 : 0;
                break;
            }
            if (is_unsolicited(line)) note_unsolicited(p, line);
        }
    }
    printf("TWOFOLD-AT %s store done n=%d stored=%d last=%s\n", p->persona, count, stored, final);
}

static void obey(struct probe* p, const char* order) {
    struct reply r;
    char command[128];
    if (starts_with(order, "do:dial ")) {
        snprintf(command, sizeof command, "ATD%.64s;", order + 8);
        at(p, command, 20000, &r);
        printf("TWOFOLD-AT %s dial %s -> %s\n", p->persona, order + 8, r.final);
        at(p, "AT+CLCC", 10000, &r);
        printf("TWOFOLD-AT %s calls=%zu\n", p->persona, count_prefixed(&r, "+CLCC:"));
    } else if (strcmp(order, "do:clcc") == 0) {
        at(p, "AT+CLCC", 10000, &r);
        printf("TWOFOLD-AT %s calls=%zu (%s)\n", p->persona, count_prefixed(&r, "+CLCC:"), r.final);
    } else if (strcmp(order, "do:hangup") == 0) {
        at(p, "ATH", 10000, &r);
        printf("TWOFOLD-AT %s hangup -> %s\n", p->persona, r.final);
    } else if (starts_with(order, "do:ping ")) {
        ping(p, atoi(order + 8));
    } else if (starts_with(order, "do:flood ")) {
        flood(p, atoi(order + 9));
    } else if (starts_with(order, "do:sms ")) {
        send_many(p, atoi(order + 7));
    } else if (starts_with(order, "do:at ")) {
        at_order(p, order + 6);
    } else if (starts_with(order, "do:cmgs ")) {
        cmgs_order(p, order + 8);
    } else if (starts_with(order, "do:store ")) {
        store_many(p, atoi(order + 9));
    } else {
        printf("TWOFOLD-AT %s unknown order '%s'\n", p->persona, order);
    }
}

/* +CMGR: "REC UNREAD","+4915550001",,"26/11/21,10:00:00+04" -> the second quoted field. */
static void sender_of(const char* header, char* number, size_t cap) {
    number[0] = '\0';
    const char* q = strchr(header, '"');
    for (int i = 0; i < 2 && q != NULL; ++i) q = strchr(q + 1, '"');
    const char* end = q != NULL ? strchr(q + 1, '"') : NULL;
    if (end == NULL) return;
    const size_t n = (size_t)(end - q - 1) < cap - 1 ? (size_t)(end - q - 1) : cap - 1;
    memcpy(number, q + 1, n);
    number[n] = '\0';
}

static void read_messages(struct probe* p) {
    while (p->pending_count > 0) {
        const unsigned index = p->pending_sms[0];
        memmove(p->pending_sms, p->pending_sms + 1, (p->pending_count - 1) * sizeof p->pending_sms[0]);
        --p->pending_count;
        struct reply r;
        char command[64];
        snprintf(command, sizeof command, "AT+CMGR=%u", index);
        at(p, command, 10000, &r);
        if (strcmp(r.final, "OK") != 0 || r.info_count < 2 || !starts_with(r.info[0], "+CMGR:")) {
            printf("TWOFOLD-SMS %s index=%u read=FAIL %s\n", p->persona, index, r.final);
            continue;
        }
        char number[64];
        char text[kLineMax];
        sender_of(r.info[0], number, sizeof number);
        snprintf(text, sizeof text, "%s", r.info[1]);
        printf("TWOFOLD-SMS %s index=%u from=%s text=%s\n", p->persona, index, number, text);
        snprintf(command, sizeof command, "AT+CMGD=%u", index);
        at(p, command, 10000, &r);
        if (starts_with(text, "do:")) obey(p, text);
    }
}

static int set_up(struct probe* p) {
    struct reply r;
    /* The backend may connect to this console after the first bytes: the first AT that is
     * answered says it is there; answers to earlier ones are then drained. */
    const long long give_up = now_ms() + kWaitSeconds * 1000LL;
    p->quiet = 1;
    do {
        at(p, "AT", 3000, &r);
    } while (strcmp(r.final, "OK") != 0 && now_ms() < give_up);
    p->quiet = 0;
    if (strcmp(r.final, "OK") != 0) {
        printf("TWOFOLD-AT %s init=FAIL no answer to AT in %d s\n", p->persona, kWaitSeconds);
        return -1;
    }
    drain(p, 500, 5000);
    static const char* const kSetUp[] = {"ATE0", "AT+CMEE=1", "AT+CMGF=1", "AT+CNMI=2,1"};
    for (size_t i = 0; i < sizeof kSetUp / sizeof kSetUp[0]; ++i) {
        at(p, kSetUp[i], 10000, &r);
        if (strcmp(r.final, "OK") != 0) {
            printf("TWOFOLD-AT %s init=FAIL %s -> %s\n", p->persona, kSetUp[i], r.final);
            return -1;
        }
    }
    /* Caller id is the supplementary-services family, which the policy may not grant. */
    at(p, "AT+CLIP=1", 10000, &r);
    char clip[sizeof r.final];
    snprintf(clip, sizeof clip, "%s", strcmp(r.final, "OK") == 0 ? "on" : r.final);
    at(p, "AT+CGMI", 10000, &r);
    if (strcmp(r.final, "OK") != 0 || r.info_count != 1) {
        printf("TWOFOLD-AT %s init=FAIL AT+CGMI -> %s\n", p->persona, r.final);
        return -1;
    }
    printf("TWOFOLD-AT %s ready cgmi=%s clip=%s\n", p->persona, r.info[0], clip);
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: twofold-modem-probe PERSONA DEVICE\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct probe p = {.persona = argv[1], .fd = -1};
    for (int tries = 0; p.fd < 0 && tries < kWaitSeconds * 5; ++tries) {
        p.fd = open(argv[2], O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (p.fd < 0) sleep_ms(200);
    }
    if (p.fd < 0) {
        printf("TWOFOLD-AT %s init=FAIL cannot open %s: %s\n", p.persona, argv[2], strerror(errno));
        return 1;
    }
    struct termios tio;
    if (tcgetattr(p.fd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(p.fd, TCSANOW, &tio);
    }
    tcflush(p.fd, TCIOFLUSH);
    if (set_up(&p) != 0) return 1;
    char line[kLineMax];
    for (;;) {
        const int got = read_line(&p, 1000, line);
        if (got < 0) {
            printf("TWOFOLD-AT %s device failed: %s\n", p.persona, strerror(errno));
            return 1;
        }
        /* With no command in flight every line is unsolicited (NO CARRIER: the remote hung up). */
        if (got == 1) note_unsolicited(&p, line);
        read_messages(&p);
    }
}
