// SLIM_TEST_ASAN: 1 when the tests are built with AddressSanitizer. gcc says so with
// __SANITIZE_ADDRESS__, clang with __has_feature(address_sanitizer).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define SLIM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLIM_TEST_ASAN 1
#endif
#endif
#ifndef SLIM_TEST_ASAN
#define SLIM_TEST_ASAN 0
#endif
