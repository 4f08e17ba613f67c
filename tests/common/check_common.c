/*
 * check_common.c — the common module's suite: error texts, bounded file
 * reads, bounded copies, base64 (here), configuration (tc_config.c) and
 * logging (tc_log.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "common.h"
#include "tests.h"

START_TEST(strerror_all)
{
	int e;

	for (e = 0; e >= SECMX_ELAST; e--)
		ck_assert_str_ne(secmx_strerror(e), "unknown error");
	ck_assert_str_eq(secmx_strerror(-999), "unknown error");
}
END_TEST

START_TEST(file_read_limit)
{
	char path[] = "/tmp/secmx-check-XXXXXX";
	int fd = mkstemp(path);
	char *buf = NULL;
	size_t len = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	ck_assert_int_eq(secmx_file_read(path, 10, &buf, &len), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);
	ck_assert_int_eq(secmx_file_read(path, 9, &buf, &len), SECMX_ELIMIT);
	ck_assert_ptr_null(buf);
	unlink(path);
	ck_assert_int_eq(secmx_file_read(path, 9, &buf, &len), SECMX_EIO);
}
END_TEST

/* Files larger than the first buffer (64 KiB) are read whole, and the limit
 * still holds at the exact size (a regression: they were cut at 65535). */
START_TEST(file_read_large)
{
	char path[] = "/tmp/secmx-check-XXXXXX";
	int fd = mkstemp(path);
	size_t n = 300000, i, len = 0;
	char *data = malloc(n), *buf = NULL;

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(data);
	for (i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	ck_assert_int_eq(secmx_file_read(path, n, &buf, &len), 0);
	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(buf, data, n) == 0);
	ck_assert_int_eq(buf[n], '\0');
	free(buf);
	ck_assert_int_eq(secmx_file_read(path, n - 1, &buf, &len), SECMX_ELIMIT);
	ck_assert_ptr_null(buf);
	ck_assert_int_eq(secmx_file_read(path, 65535, &buf, &len), SECMX_ELIMIT);
	ck_assert_int_eq(secmx_file_read(path, 1u << 30, &buf, &len), 0);
	ck_assert_uint_eq(len, n);
	free(buf);
	unlink(path);
	free(data);
}
END_TEST

START_TEST(printable_replaces_controls)
{
	char s[] = "ok\r\nfake line\x1b[2J\xc3\xa9 end";

	secmx_printable(s);
	ck_assert_str_eq(s, "ok??fake line?[2J?? end");
}
END_TEST

START_TEST(strlcpy_truncates)
{
	char b[4];

	ck_assert_uint_eq(secmx_strlcpy(b, "abcdef", sizeof(b)), 6);
	ck_assert_str_eq(b, "abc");
}
END_TEST

START_TEST(base64)
{
	unsigned char *out = NULL;
	long n = secmx_base64_decode("aGVs\nbG8=", 9, &out);

	ck_assert_int_eq(n, 5);
	ck_assert(memcmp(out, "hello", 5) == 0);
	free(out);
	ck_assert_int_eq(secmx_base64_decode("abc", 3, &out), SECMX_EPARSE);
	ck_assert_int_eq(secmx_base64_decode("a!c=", 4, &out), SECMX_EPARSE);
}
END_TEST

/* named_thread: name itself, then report its name as the kernel has it. */
static void *named_thread(void *arg)
{
	FILE *fp;

	secmx_thread_name("queue-sync-and-more"); /* 19 bytes: 15 are kept */
	if ((fp = fopen("/proc/thread-self/comm", "r")) == NULL || fgets(arg, 32, fp) == NULL)
		snprintf(arg, 32, "(unreadable)\n");
	if (fp != NULL)
		fclose(fp);
	return NULL;
}

START_TEST(thread_name)
{
	char name[32] = "";
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, named_thread, name), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_str_eq(name, "queue-sync-and-\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("utilities");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, strerror_all);
	tcase_add_test(tc, file_read_limit);
	tcase_add_test(tc, file_read_large);
	tcase_add_test(tc, strlcpy_truncates);
	tcase_add_test(tc, printable_replaces_controls);
	tcase_add_test(tc, base64);
	tcase_add_test(tc, thread_name);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tc_config());
	suite_add_tcase(s, tc_log());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
