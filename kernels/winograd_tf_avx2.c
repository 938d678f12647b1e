/* The Winograd transforms for AVX2+FMA (ymm): see winograd_tf_body.h. */
#include <stdint.h>
#include <string.h>
#include "winograd_tf.h"

#pragma GCC target("avx2,fma,no-avx512f")
#define WINO_TFS wino_tfs_avx2
#include "winograd_tf_body.h"
