/* The depthwise kernels portably, for the build's own target (its widest
   vectors): see depthwise_body.h. */
#define DW_ISA   ISA_PORTABLE
#define DW_TABLE dw_isa_portable
#include "depthwise_body.h"
