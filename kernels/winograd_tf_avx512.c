/* The Winograd transforms for AVX-512 (zmm): see winograd_tf_body.h. */
#include <stdint.h>
#include <string.h>
#include "winograd_tf.h"

#pragma GCC target("avx512f")
#define WINO_TFS wino_tfs_avx512
#include "winograd_tf_body.h"
