#ifndef DEFINES_H_
#define DEFINES_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "nnet_utils/nnet_types.h"
#include <cstddef>
#include <cstdio>

// hls-fpga-machine-learning insert numbers
#define N_INPUT_1_1 10
#define N_LAYER_2 16
#define N_LAYER_2 16
#define N_LAYER_4 8
#define N_LAYER_4 8
#define N_LAYER_6 3
#define N_LAYER_6 3

// hls-fpga-machine-learning insert layer-precision
typedef nnet::array<ap_fixed<16,6>, 10*1> input_t;
typedef ap_fixed<16,6> model_default_t;
typedef nnet::array<ap_fixed<16,6>, 16*1> layer2_t;
typedef ap_uint<1> layer2_index;
typedef nnet::array<ap_fixed<16,6>, 16*1> layer3_t;
typedef ap_fixed<18,8> relu_table_t;
typedef nnet::array<ap_fixed<16,6>, 8*1> layer4_t;
typedef ap_uint<1> layer4_index;
typedef nnet::array<ap_fixed<16,6>, 8*1> layer5_t;
typedef ap_fixed<18,8> sigmoid_table_t;
typedef nnet::array<ap_fixed<16,6>, 3*1> layer6_t;
typedef ap_uint<1> layer6_index;
typedef nnet::array<ap_fixed<16,6>, 3*1> result_t;
typedef ap_fixed<18,8> softmax_table_t;
typedef ap_fixed<18,8,AP_RND,AP_SAT> softmax_exp_table_t;
typedef ap_fixed<18,8,AP_RND,AP_SAT> softmax_inv_table_t;

#endif
