/* The Winograd transforms portably: for the build's own target (see
   winograd_tf_body.h). */
#include <stdint.h>
#include <string.h>
#include "winograd_tf.h"

#define WINO_TFS wino_tfs_portable
#include "winograd_tf_body.h"
