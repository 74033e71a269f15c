/*
 * security-standin.c: an in-memory ABI stand-in (a test double) for the
 * Security.framework and CoreFoundation functions that native/macos/store.ts calls.
 *
 * It exists so that the macOS binding's marshalling and CF ownership can be
 * tested on Linux. It implements the same C signatures and the same
 * reference-counting rules (CFRetain/CFRelease, the Create/Copy rule, a
 * CFDictionary made with kCFTypeDictionary*CallBacks retains its keys and
 * values), but it is NOT Apple's code: passing these tests does not prove how
 * the real keychain behaves (prompts, ACLs, search lists).
 *
 * Built by test/macos-abi/standin.ts (for test/macos-keychain-abi-*.test.ts) with the system cc:
 *   cc -shared -fPIC -pthread -o libsecurity-standin.so security-standin.c
 *
 * Control functions (prefixed standin_) let the test force OSStatus codes,
 * delay calls (a stand-in for a keychain prompt), and read the number of live
 * CF objects and of ownership mistakes (a release too many, a bad callback
 * table).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- CoreFoundation types, as in CFBase.h (LP64: CFIndex is a long) ---- */
typedef int32_t OSStatus;
typedef unsigned char Boolean;
typedef signed long CFIndex;
typedef unsigned long CFTypeID;
typedef uint32_t CFStringEncoding;
typedef const void *CFTypeRef;
typedef const void *CFAllocatorRef;
typedef const struct StandinObject *CFStringRef;
typedef const struct StandinObject *CFDataRef;
typedef const struct StandinObject *CFDictionaryRef;
typedef const struct StandinObject *CFBooleanRef;

typedef const void *(*CFDictionaryRetainCallBack)(CFAllocatorRef, const void *);
typedef void (*CFDictionaryReleaseCallBack)(CFAllocatorRef, const void *);
typedef CFStringRef (*CFDictionaryCopyDescriptionCallBack)(const void *);
typedef Boolean (*CFDictionaryEqualCallBack)(const void *, const void *);
typedef unsigned long (*CFDictionaryHashCallBack)(const void *);
typedef struct {
  CFIndex version;
  CFDictionaryRetainCallBack retain;
  CFDictionaryReleaseCallBack release;
  CFDictionaryCopyDescriptionCallBack copyDescription;
  CFDictionaryEqualCallBack equal;
  CFDictionaryHashCallBack hash;
} CFDictionaryKeyCallBacks;
typedef struct {
  CFIndex version;
  CFDictionaryRetainCallBack retain;
  CFDictionaryReleaseCallBack release;
  CFDictionaryCopyDescriptionCallBack copyDescription;
  CFDictionaryEqualCallBack equal;
} CFDictionaryValueCallBacks;

#define kCFStringEncodingUTF8 0x08000100u
#define kCFNotFound ((CFIndex)-1)

/* OSStatus values from SecBase.h / MacErrors.h. */
#define errSecSuccess 0
#define errSecParam (-50)
#define errSecAllocate (-108)
#define errSecDuplicateItem (-25299)
#define errSecItemNotFound (-25300)

/* ---- the object model ---- */
enum { KIND_STRING = 1, KIND_DATA, KIND_DICTIONARY, KIND_BOOLEAN };
#define STANDIN_MAGIC 0x5ec0cf01u

struct StandinObject {
  uint32_t magic;
  int kind;
  int immortal;       /* constants: never counted, never freed */
  long refcount;      /* 0 = released (the struct is kept so a late release is detected) */
  unsigned char *bytes; /* string: UTF-8; data: the bytes */
  CFIndex length;
  CFIndex count;      /* dictionary */
  const void **keys;
  const void **values;
  int retains_contents;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long live_objects;
static long misuse;
static char last_misuse[160];

static void note_misuse(const char *what) {
  misuse++;
  snprintf(last_misuse, sizeof last_misuse, "%s", what);
}

#define CONST_STRING(name, text) \
  static struct StandinObject name##_object = {STANDIN_MAGIC, KIND_STRING, 1, 1, (unsigned char *)(text), sizeof(text) - 1, 0, 0, 0, 0}; \
  const CFStringRef name = &name##_object;

/* Data symbols of Security.framework (values chosen to be Apple's strings). */
CONST_STRING(kSecClass, "class")
CONST_STRING(kSecClassGenericPassword, "genp")
CONST_STRING(kSecAttrService, "svce")
CONST_STRING(kSecAttrAccount, "acct")
CONST_STRING(kSecAttrLabel, "labl")
CONST_STRING(kSecValueData, "v_Data")
CONST_STRING(kSecReturnData, "r_Data")
CONST_STRING(kSecMatchLimit, "m_Limit")
CONST_STRING(kSecMatchLimitOne, "m_LimitOne")

/* Data symbols of CoreFoundation. */
static struct StandinObject true_object = {STANDIN_MAGIC, KIND_BOOLEAN, 1, 1, 0, 1, 0, 0, 0, 0};
static struct StandinObject false_object = {STANDIN_MAGIC, KIND_BOOLEAN, 1, 1, 0, 0, 0, 0, 0, 0};
const CFBooleanRef kCFBooleanTrue = &true_object;
const CFBooleanRef kCFBooleanFalse = &false_object;

static const void *type_retain(CFAllocatorRef a, const void *v);
static void type_release(CFAllocatorRef a, const void *v);
const CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks = {0, type_retain, type_release, 0, 0, 0};
const CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks = {0, type_retain, type_release, 0, 0};

static struct StandinObject *new_object(int kind) {
  struct StandinObject *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->magic = STANDIN_MAGIC;
  o->kind = kind;
  o->refcount = 1;
  live_objects++;
  return o;
}

/* A new string or data object holding a copy of `length` bytes (called with the lock held). */
static struct StandinObject *new_bytes_object(int kind, const void *bytes, CFIndex length) {
  struct StandinObject *o = new_object(kind);
  if (!o) return NULL;
  o->bytes = malloc((size_t)length + 1);
  if (length) memcpy(o->bytes, bytes, (size_t)length);
  o->bytes[length] = 0;
  o->length = length;
  return o;
}

/* Checks a reference passed in by the caller; returns NULL (and counts a misuse) when it is not a live object. */
static struct StandinObject *check(const void *ref, const char *where) {
  struct StandinObject *o = (struct StandinObject *)ref;
  if (!o) { note_misuse(where); return NULL; }
  if (o->magic != STANDIN_MAGIC) { note_misuse(where); return NULL; }
  if (!o->immortal && o->refcount <= 0) { note_misuse(where); return NULL; }
  return o;
}

static void release_locked(const void *ref, const char *where);

static void destroy(struct StandinObject *o) {
  if (o->kind == KIND_DICTIONARY && o->retains_contents) {
    for (CFIndex i = 0; i < o->count; i++) {
      release_locked(o->keys[i], "dictionary key release");
      release_locked(o->values[i], "dictionary value release");
    }
  }
  free(o->keys); o->keys = NULL;
  free(o->values); o->values = NULL;
  if (o->bytes) memset(o->bytes, 0, (size_t)o->length);
  free(o->bytes); o->bytes = NULL;
  live_objects--;
  /* The struct itself is not freed, so a release too many is detected instead of corrupting memory. */
}

static void release_locked(const void *ref, const char *where) {
  struct StandinObject *o = check(ref, where);
  if (!o || o->immortal) return;
  if (--o->refcount == 0) destroy(o);
}

static const void *type_retain(CFAllocatorRef a, const void *v) {
  (void)a;
  struct StandinObject *o = check(v, "dictionary retain");
  if (o && !o->immortal) o->refcount++;
  return v;
}

static void type_release(CFAllocatorRef a, const void *v) {
  (void)a;
  release_locked(v, "dictionary release");
}

/* ---- CoreFoundation functions ---- */
CFTypeRef CFRetain(CFTypeRef cf) {
  pthread_mutex_lock(&lock);
  struct StandinObject *o = check(cf, "CFRetain of a dead or NULL object");
  if (o && !o->immortal) o->refcount++;
  pthread_mutex_unlock(&lock);
  return cf;
}

void CFRelease(CFTypeRef cf) {
  pthread_mutex_lock(&lock);
  release_locked(cf, "CFRelease of a dead or NULL object");
  pthread_mutex_unlock(&lock);
}

CFTypeID CFGetTypeID(CFTypeRef cf) {
  pthread_mutex_lock(&lock);
  struct StandinObject *o = check(cf, "CFGetTypeID");
  CFTypeID id = o ? (CFTypeID)(100 + o->kind) : 0;
  pthread_mutex_unlock(&lock);
  return id;
}
CFTypeID CFStringGetTypeID(void) { return 100 + KIND_STRING; }
CFTypeID CFDataGetTypeID(void) { return 100 + KIND_DATA; }
CFTypeID CFDictionaryGetTypeID(void) { return 100 + KIND_DICTIONARY; }

/* Returns 1 when the bytes are well-formed UTF-8 (CFStringCreateWithBytes fails otherwise). */
static int valid_utf8(const unsigned char *s, CFIndex n, CFIndex *utf16_units) {
  CFIndex units = 0;
  for (CFIndex i = 0; i < n;) {
    unsigned char c = s[i];
    int extra;
    uint32_t cp;
    if (c < 0x80) { extra = 0; cp = c; }
    else if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; }
    else return 0;
    if (i + extra >= n && extra > 0) return 0; /* truncated sequence */
    for (int k = 1; k <= extra; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)) return 0;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    units += cp >= 0x10000 ? 2 : 1;
    i += extra + 1;
  }
  if (utf16_units) *utf16_units = units;
  return 1;
}

CFStringRef CFStringCreateWithBytes(CFAllocatorRef alloc, const uint8_t *bytes, CFIndex numBytes,
                                    CFStringEncoding encoding, Boolean isExternalRepresentation) {
  (void)alloc;
  if (encoding != kCFStringEncodingUTF8) return NULL; /* the binding only ever asks for UTF-8 */
  /* The binding passes false (plain UTF-8, no BOM): anything else is a mis-marshalled Boolean. */
  if (isExternalRepresentation != 0) {
    pthread_mutex_lock(&lock);
    note_misuse("CFStringCreateWithBytes with isExternalRepresentation set");
    pthread_mutex_unlock(&lock);
  }
  if (numBytes < 0 || (numBytes > 0 && !bytes)) return NULL;
  if (!valid_utf8(bytes, numBytes, NULL)) return NULL;
  pthread_mutex_lock(&lock);
  struct StandinObject *o = new_bytes_object(KIND_STRING, bytes, numBytes);
  pthread_mutex_unlock(&lock);
  return o;
}

CFIndex CFStringGetLength(CFStringRef s) {
  pthread_mutex_lock(&lock);
  struct StandinObject *o = check(s, "CFStringGetLength");
  CFIndex units = 0;
  if (o && o->kind == KIND_STRING) valid_utf8(o->bytes, o->length, &units);
  else if (o) note_misuse("CFStringGetLength on a non-string");
  pthread_mutex_unlock(&lock);
  return units;
}

CFIndex CFStringGetMaximumSizeForEncoding(CFIndex length, CFStringEncoding encoding) {
  if (encoding != kCFStringEncodingUTF8) return kCFNotFound;
  return length * 3; /* what CoreFoundation answers for UTF-8 */
}

Boolean CFStringGetCString(CFStringRef s, char *buffer, CFIndex bufferSize, CFStringEncoding encoding) {
  Boolean ok = 0;
  pthread_mutex_lock(&lock);
  struct StandinObject *o = check(s, "CFStringGetCString");
  if (o && o->kind == KIND_STRING && encoding == kCFStringEncodingUTF8 && buffer && bufferSize > o->length) {
    memcpy(buffer, o->bytes, (size_t)o->length);
    buffer[o->length] = 0;
    ok = 1;
  }
  pthread_mutex_unlock(&lock);
  return ok;
}

CFDataRef CFDataCreate(CFAllocatorRef alloc, const uint8_t *bytes, CFIndex length) {
  (void)alloc;
  if (length < 0 || (length > 0 && !bytes)) return NULL;
  pthread_mutex_lock(&lock);
  struct StandinObject *o = new_bytes_object(KIND_DATA, bytes, length);
  pthread_mutex_unlock(&lock);
  return o;
}

CFIndex CFDataGetLength(CFDataRef d) {
  pthread_mutex_lock(&lock);
  struct StandinObject *o = check(d, "CFDataGetLength");
  CFIndex n = 0;
  if (o && o->kind == KIND_DATA) n = o->length;
  else if (o) note_misuse("CFDataGetLength on a non-data");
  pthread_mutex_unlock(&lock);
  return n;
}

/* The bytes stay valid while the data object is alive: destroy() wipes and frees them, so a read after the
   release shows up as wrong bytes. Empty data answers NULL, as CoreFoundation may. */
const uint8_t *CFDataGetBytePtr(CFDataRef d) {
  pthread_mutex_lock(&lock);
  struct StandinObject *o = check(d, "CFDataGetBytePtr of a dead or NULL object");
  const uint8_t *p = NULL;
  if (o && o->kind == KIND_DATA) p = o->length ? o->bytes : NULL;
  else if (o) note_misuse("CFDataGetBytePtr on a non-data");
  pthread_mutex_unlock(&lock);
  return p;
}

CFDictionaryRef CFDictionaryCreate(CFAllocatorRef alloc, const void **keys, const void **values, CFIndex numValues,
                                   const CFDictionaryKeyCallBacks *keyCallBacks,
                                   const CFDictionaryValueCallBacks *valueCallBacks) {
  (void)alloc;
  if (numValues < 0 || (numValues > 0 && (!keys || !values))) return NULL;
  pthread_mutex_lock(&lock);
  /* The binding must pass Apple's kCFType callbacks: with NULL ones the dictionary would not retain anything. */
  int retains = keyCallBacks == &kCFTypeDictionaryKeyCallBacks && valueCallBacks == &kCFTypeDictionaryValueCallBacks;
  if (!retains) note_misuse("CFDictionaryCreate without kCFTypeDictionary*CallBacks");
  struct StandinObject *o = new_object(KIND_DICTIONARY);
  if (o) {
    o->count = numValues;
    o->keys = calloc((size_t)numValues + 1, sizeof *o->keys);
    o->values = calloc((size_t)numValues + 1, sizeof *o->values);
    o->retains_contents = retains;
    for (CFIndex i = 0; i < numValues; i++) {
      struct StandinObject *k = check(keys[i], "CFDictionaryCreate key");
      struct StandinObject *v = check(values[i], "CFDictionaryCreate value");
      o->keys[i] = k;
      o->values[i] = v;
      if (retains) {
        if (k && !k->immortal) k->refcount++;
        if (v && !v->immortal) v->refcount++;
      }
    }
  }
  pthread_mutex_unlock(&lock);
  return o;
}

/* ---- the in-memory keychain ---- */
struct Item {
  unsigned char *service; CFIndex service_length;
  unsigned char *account; CFIndex account_length;
  unsigned char *label; CFIndex label_length;
  unsigned char *data; CFIndex data_length;
  long serial;        /* creation marker: kept by SecItemUpdate, new for every SecItemAdd */
  long modifications;
  struct Item *next;
};
static struct Item *items;
static long next_serial = 1;
static int status_queue[64];
static int status_head, status_tail;
static long delay_ms;
static long in_flight;
static int message_null;
static long calls_copy, calls_add, calls_update, calls_delete;

static int same_string(const struct StandinObject *a, const struct StandinObject *b) {
  if (a == b) return 1;
  if (!a || !b || a->kind != KIND_STRING || b->kind != KIND_STRING) return 0;
  return a->length == b->length && memcmp(a->bytes, b->bytes, (size_t)a->length) == 0;
}

static const struct StandinObject *lookup(const struct StandinObject *dict, CFStringRef key) {
  for (CFIndex i = 0; i < dict->count; i++)
    if (same_string(dict->keys[i], key)) return dict->values[i];
  return NULL;
}

/* Returns errSecParam unless every key of `dict` is one of `allowed` (a NULL-terminated list). */
static OSStatus only_keys(const struct StandinObject *dict, const CFStringRef *allowed) {
  for (CFIndex i = 0; i < dict->count; i++) {
    int found = 0;
    for (const CFStringRef *a = allowed; *a; a++) if (same_string(dict->keys[i], *a)) found = 1;
    if (!found) return errSecParam;
  }
  return errSecSuccess;
}

struct Query { const struct StandinObject *service, *account, *label, *data; };

/* Parses the common attributes; checks the class and the value types as SecItem does. */
static OSStatus parse(const struct StandinObject *dict, struct Query *q, int need_class) {
  memset(q, 0, sizeof *q);
  const struct StandinObject *cls = lookup(dict, kSecClass);
  if (need_class && !same_string(cls, kSecClassGenericPassword)) return errSecParam;
  q->service = lookup(dict, kSecAttrService);
  q->account = lookup(dict, kSecAttrAccount);
  q->label = lookup(dict, kSecAttrLabel);
  q->data = lookup(dict, kSecValueData);
  if (q->service && q->service->kind != KIND_STRING) return errSecParam;
  if (q->account && q->account->kind != KIND_STRING) return errSecParam;
  if (q->label && q->label->kind != KIND_STRING) return errSecParam;
  if (q->data && q->data->kind != KIND_DATA) return errSecParam;
  return errSecSuccess;
}

static int matches(const struct Item *it, const struct Query *q) {
  if (q->service && !(q->service->length == it->service_length && !memcmp(q->service->bytes, it->service, (size_t)it->service_length))) return 0;
  if (q->account && !(q->account->length == it->account_length && !memcmp(q->account->bytes, it->account, (size_t)it->account_length))) return 0;
  return 1;
}

static unsigned char *copy_bytes(const struct StandinObject *o, CFIndex *length) {
  *length = o ? o->length : 0;
  unsigned char *p = malloc((size_t)*length + 1);
  if (o && o->length) memcpy(p, o->bytes, (size_t)o->length);
  return p;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
}

/* Every SecItem call starts here: counts it, waits the configured delay (a stand-in for a prompt),
   then takes the lock and pops a forced status, if any (0 in the queue means "behave normally"). */
static OSStatus enter(long *counter) {
  pthread_mutex_lock(&lock);
  (*counter)++;
  in_flight++;
  long wait = delay_ms;
  pthread_mutex_unlock(&lock);
  if (wait > 0) sleep_ms(wait);
  pthread_mutex_lock(&lock);
  OSStatus forced = 0;
  if (status_head != status_tail) {
    forced = status_queue[status_head];
    status_head = (status_head + 1) % 64;
  }
  return forced;
}

static OSStatus leave(OSStatus status) {
  in_flight--;
  pthread_mutex_unlock(&lock);
  return status;
}

OSStatus SecItemCopyMatching(CFDictionaryRef query, CFTypeRef *result) {
  OSStatus forced = enter(&calls_copy);
  if (result) *result = NULL;
  if (forced) return leave(forced);
  const struct StandinObject *dict = check(query, "SecItemCopyMatching query");
  if (!dict || dict->kind != KIND_DICTIONARY) return leave(errSecParam);
  const CFStringRef keys[] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecAttrLabel, kSecReturnData, kSecMatchLimit, NULL};
  if (only_keys(dict, keys)) return leave(errSecParam);
  struct Query q;
  OSStatus st = parse(dict, &q, 1);
  if (st) return leave(st);
  const struct StandinObject *want_data = lookup(dict, kSecReturnData);
  const struct StandinObject *limit = lookup(dict, kSecMatchLimit);
  if (limit && !same_string(limit, kSecMatchLimitOne)) return leave(errSecParam); /* the stand-in only supports one */
  int return_data = want_data && want_data->kind == KIND_BOOLEAN && want_data->length;
  if (return_data && !result) return leave(errSecParam);
  for (struct Item *it = items; it; it = it->next) {
    if (!matches(it, &q)) continue;
    if (return_data) {
      struct StandinObject *o = new_bytes_object(KIND_DATA, it->data, it->data_length); /* Copy rule: the caller owns it */
      if (!o) return leave(errSecAllocate);
      *result = o;
    }
    return leave(errSecSuccess);
  }
  return leave(errSecItemNotFound);
}

OSStatus SecItemAdd(CFDictionaryRef attributes, CFTypeRef *result) {
  OSStatus forced = enter(&calls_add);
  if (result) *result = NULL;
  if (forced) return leave(forced);
  const struct StandinObject *dict = check(attributes, "SecItemAdd attributes");
  if (!dict || dict->kind != KIND_DICTIONARY) return leave(errSecParam);
  const CFStringRef keys[] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecAttrLabel, kSecValueData, NULL};
  if (only_keys(dict, keys)) return leave(errSecParam);
  struct Query q;
  OSStatus st = parse(dict, &q, 1);
  if (st) return leave(st);
  /* A generic password is unique by (service, account): both count even when absent. */
  for (struct Item *it = items; it; it = it->next) {
    CFIndex sl = q.service ? q.service->length : 0, al = q.account ? q.account->length : 0;
    if (sl == it->service_length && al == it->account_length &&
        (!sl || !memcmp(q.service->bytes, it->service, (size_t)sl)) &&
        (!al || !memcmp(q.account->bytes, it->account, (size_t)al)))
      return leave(errSecDuplicateItem);
  }
  struct Item *it = calloc(1, sizeof *it);
  it->service = copy_bytes(q.service, &it->service_length);
  it->account = copy_bytes(q.account, &it->account_length);
  it->label = copy_bytes(q.label, &it->label_length);
  it->data = copy_bytes(q.data, &it->data_length);
  it->serial = next_serial++;
  it->next = items;
  items = it;
  return leave(errSecSuccess);
}

OSStatus SecItemUpdate(CFDictionaryRef query, CFDictionaryRef attributesToUpdate) {
  OSStatus forced = enter(&calls_update);
  if (forced) return leave(forced);
  const struct StandinObject *dict = check(query, "SecItemUpdate query");
  const struct StandinObject *attrs = check(attributesToUpdate, "SecItemUpdate attributes");
  if (!dict || dict->kind != KIND_DICTIONARY || !attrs || attrs->kind != KIND_DICTIONARY) return leave(errSecParam);
  /* No return or match-limit keys in an update query: macOS answers errSecParam. */
  const CFStringRef query_keys[] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecAttrLabel, NULL};
  const CFStringRef update_keys[] = {kSecAttrLabel, kSecValueData, NULL};
  if (only_keys(dict, query_keys) || only_keys(attrs, update_keys)) return leave(errSecParam);
  struct Query q, u;
  OSStatus st = parse(dict, &q, 1);
  if (!st) st = parse(attrs, &u, 0);
  if (st) return leave(st);
  int found = 0;
  for (struct Item *it = items; it; it = it->next) {
    if (!matches(it, &q)) continue;
    found = 1;
    if (u.data) {
      if (it->data) memset(it->data, 0, (size_t)it->data_length);
      free(it->data);
      it->data = copy_bytes(u.data, &it->data_length);
    }
    if (u.label) { free(it->label); it->label = copy_bytes(u.label, &it->label_length); }
    it->modifications++;
  }
  return leave(found ? errSecSuccess : errSecItemNotFound);
}

OSStatus SecItemDelete(CFDictionaryRef query) {
  OSStatus forced = enter(&calls_delete);
  if (forced) return leave(forced);
  const struct StandinObject *dict = check(query, "SecItemDelete query");
  if (!dict || dict->kind != KIND_DICTIONARY) return leave(errSecParam);
  const CFStringRef keys[] = {kSecClass, kSecAttrService, kSecAttrAccount, kSecAttrLabel, NULL};
  if (only_keys(dict, keys)) return leave(errSecParam);
  struct Query q;
  OSStatus st = parse(dict, &q, 1);
  if (st) return leave(st);
  int found = 0;
  for (struct Item **p = &items; *p;) {
    struct Item *it = *p;
    if (!matches(it, &q)) { p = &it->next; continue; }
    found = 1;
    *p = it->next;
    if (it->data) memset(it->data, 0, (size_t)it->data_length);
    free(it->service); free(it->account); free(it->label); free(it->data); free(it);
  }
  return leave(found ? errSecSuccess : errSecItemNotFound);
}

/* Create rule: the caller releases the string. The texts are Apple's, marked as the stand-in's. */
CFStringRef SecCopyErrorMessageString(OSStatus status, void *reserved) {
  (void)reserved;
  const char *text;
  char buffer[128];
  switch (status) {
    case errSecParam: text = "stand-in: One or more parameters passed to a function were not valid."; break;
    case errSecDuplicateItem: text = "stand-in: The specified item already exists in the keychain."; break;
    case errSecItemNotFound: text = "stand-in: The specified item could not be found in the keychain."; break;
    case -25308: text = "stand-in: User interaction is not allowed."; break;
    case -25293: text = "stand-in: The user name or passphrase you entered is not correct."; break;
    case -128: text = "stand-in: User canceled the operation."; break;
    case -25294: text = "stand-in: The specified keychain could not be found."; break;
    case -25291: text = "stand-in: No keychain is available."; break;
    default:
      /* Non-ASCII on purpose: the binding must decode this CFString as UTF-8. */
      snprintf(buffer, sizeof buffer, "stand-in: unrecognised OSStatus %d \xe2\x80\x94 caf\xc3\xa9", (int)status);
      text = buffer;
  }
  pthread_mutex_lock(&lock);
  CFStringRef s = message_null ? NULL : new_bytes_object(KIND_STRING, text, (CFIndex)strlen(text));
  pthread_mutex_unlock(&lock);
  return s;
}

/* ---- control functions for the test ---- */

/* Forgets every item, queued status, delay and counter. Live objects are not reset: a leak stays visible. */
void standin_reset(void) {
  pthread_mutex_lock(&lock);
  while (items) {
    struct Item *it = items;
    items = it->next;
    free(it->service); free(it->account); free(it->label); free(it->data); free(it);
  }
  status_head = status_tail = 0;
  delay_ms = 0;
  message_null = 0;
  misuse = 0;
  last_misuse[0] = 0;
  calls_copy = calls_add = calls_update = calls_delete = 0;
  pthread_mutex_unlock(&lock);
}

/* Queues the OSStatus that the next SecItem call returns (0: the next call behaves normally). */
void standin_queue_status(OSStatus status) {
  pthread_mutex_lock(&lock);
  status_queue[status_tail] = status;
  status_tail = (status_tail + 1) % 64;
  pthread_mutex_unlock(&lock);
}

/* Makes every SecItem call wait this long before it answers (a stand-in for a keychain prompt). */
void standin_set_delay_ms(long ms) {
  pthread_mutex_lock(&lock);
  delay_ms = ms;
  pthread_mutex_unlock(&lock);
}

/* Makes SecCopyErrorMessageString return NULL (it may, for codes it does not know). */
void standin_set_message_null(int on) {
  pthread_mutex_lock(&lock);
  message_null = on;
  pthread_mutex_unlock(&lock);
}

long standin_live_objects(void) {
  pthread_mutex_lock(&lock);
  long n = live_objects;
  pthread_mutex_unlock(&lock);
  return n;
}

long standin_misuse_count(void) {
  pthread_mutex_lock(&lock);
  long n = misuse;
  pthread_mutex_unlock(&lock);
  return n;
}

const char *standin_last_misuse(void) { return last_misuse; }

long standin_in_flight(void) {
  pthread_mutex_lock(&lock);
  long n = in_flight;
  pthread_mutex_unlock(&lock);
  return n;
}

/* Calls so far: 0 SecItemCopyMatching, 1 SecItemAdd, 2 SecItemUpdate, 3 SecItemDelete. */
long standin_calls(int which) {
  pthread_mutex_lock(&lock);
  long n = which == 0 ? calls_copy : which == 1 ? calls_add : which == 2 ? calls_update : which == 3 ? calls_delete : -1;
  pthread_mutex_unlock(&lock);
  return n;
}

static struct Item *find_item(const char *service, const char *account) {
  for (struct Item *it = items; it; it = it->next)
    if ((size_t)it->service_length == strlen(service) && !memcmp(it->service, service, strlen(service)) &&
        (size_t)it->account_length == strlen(account) && !memcmp(it->account, account, strlen(account)))
      return it;
  return NULL;
}

/* The item's creation marker, or -1 when there is no such item. */
long standin_item_serial(const char *service, const char *account) {
  pthread_mutex_lock(&lock);
  struct Item *it = find_item(service, account);
  long n = it ? it->serial : -1;
  pthread_mutex_unlock(&lock);
  return n;
}

/* Copies the item's label into `buffer` (NUL-terminated); returns its length, or -1 when there is no such item. */
long standin_item_label(const char *service, const char *account, char *buffer, long size) {
  pthread_mutex_lock(&lock);
  struct Item *it = find_item(service, account);
  long n = -1;
  if (it && size > it->label_length) {
    memcpy(buffer, it->label, (size_t)it->label_length);
    buffer[it->label_length] = 0;
    n = it->label_length;
  }
  pthread_mutex_unlock(&lock);
  return n;
}

/* Stores raw bytes as an item, as another program would (for example bytes that are not UTF-8). */
void standin_put_raw(const char *service, const char *account, const unsigned char *data, long length) {
  pthread_mutex_lock(&lock);
  struct Item *it = find_item(service, account);
  if (!it) {
    it = calloc(1, sizeof *it);
    it->service_length = (CFIndex)strlen(service);
    it->service = malloc((size_t)it->service_length + 1);
    memcpy(it->service, service, (size_t)it->service_length);
    it->account_length = (CFIndex)strlen(account);
    it->account = malloc((size_t)it->account_length + 1);
    memcpy(it->account, account, (size_t)it->account_length);
    it->label = malloc(1);
    it->serial = next_serial++;
    it->next = items;
    items = it;
  }
  free(it->data);
  it->data = malloc((size_t)length + 1);
  if (length) memcpy(it->data, data, (size_t)length);
  it->data_length = length;
  pthread_mutex_unlock(&lock);
}
