/* The spec parser: each error in a spec file names its line. */
#include <stdio.h>
#include <string.h>
#include "../models/net.h"
#include "check.h"
#include "suites.h"

void test_spec(void)
{
    if (!check_selected("spec")) return;
    const char *tmp = check_tmpdir();
    char name[96];
    static const struct {
        const char *text, *want;
    } specs[] = {
        { "input 28 28 1\nconv2d 8 3x3 relu\nflatten\ndense 10 relu\n",
          "bad.net:4: the last layer" },
        { "input 28 28 1\nconv2d 8 3q3 relu\n", "bad.net:2: bad filter size" },
        { "input 28 28 1\n\n# comment\npool 2\n", "bad.net:4: unknown layer 'pool'" },
        { "conv2d 8 3x3\n", "bad.net:1: the first line must be 'input H W C'" },
        { "input 28 28 1\nconv2d 8 3x3\ndense 10 softmax\n",
          "bad.net:3: dense needs a flat input" },
        { "input 4 4 1\nconv2d 8 7x7\n", "bad.net:2: conv2d: 7x7 filter larger" },
        { "input 28 28 1\nconv2d 8 3x3 pad=3\n", "bad.net:2: conv2d: padding 3" },
        { "input 28 28 1\nmaxpool 0\n", "bad.net:2: maxpool wants" },
        { "input 28 28 1\nflatten\ndense 10 softmax\ndense 10 softmax\n",
          "bad.net:3: softmax only on the last" },
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        char path[600], err[512];
        snprintf(path, sizeof path, "%s/bad.net", tmp);
        FILE *f = fopen(path, "w");
        if (!f) continue;
        fputs(specs[i].text, f);
        fclose(f);
        net nt;
        int rc = net_parse(&nt, path, err, sizeof err);
        snprintf(name, sizeof name, "spec/bad-%zu", i);
        check(name, rc && strstr(err, specs[i].want), "got \"%s\", want \"%s\"",
              rc ? err : "(accepted)", specs[i].want);
    }
}
