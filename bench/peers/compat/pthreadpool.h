// Stand-in for <pthreadpool.h>, used only when the real header is missing
// (Debian's libxnnpack-dev does not depend on libpthreadpool-dev). xnnpack.h
// needs nothing from it but the opaque handle type; the XNNPACK adapter always
// passes a null threadpool, so no pthreadpool function is called or linked.
// The typedef is the one pthreadpool itself declares.
#pragma once

typedef struct pthreadpool* pthreadpool_t;
