
/*
 * t/35-passwords.t's verifier: argon2_verify <PHC string> < password
 *
 * Checks a stored "password" as an application would, with libargon2's
 * own PHC decoder: exit 0 when the password (standard input, as bytes)
 * matches, 1 when it does not, 2 when the string is not a valid Argon2id
 * PHC string (the reason on standard error).
 */

#include <stdio.h>
#include <string.h>

#include <argon2.h>


int
main(int argc, char **argv)
{
    int     rc;
    char    pwd[65536];
    size_t  len;

    if (argc != 2 || strncmp(argv[1], "$argon2id$", 10) != 0) {
        fprintf(stderr, "usage: argon2_verify '$argon2id$...' < password\n");
        return 2;
    }

    len = fread(pwd, 1, sizeof(pwd), stdin);

    rc = argon2id_verify(argv[1], pwd, len);

    if (rc == ARGON2_OK) {
        return 0;
    }

    if (rc == ARGON2_VERIFY_MISMATCH) {
        return 1;
    }

    fprintf(stderr, "argon2id_verify: %s\n", argon2_error_message(rc));

    return 2;
}
