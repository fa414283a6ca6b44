// Verilator testbench of ${top}: one event per clock, every output sampled after each rising edge.
// usage: tb <inputs.bin> <outputs.bin> <n_events> <n_cycles>
//   inputs.bin:  n_events x ${n_in} int64 (value * 2^${in_frac})
//   outputs.bin: n_cycles x ${n_out} int64 (value * 2^${out_frac}), written by this program
// Cycle t presents event min(t, n_events - 1); the latency is found from the recorded outputs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "verilated.h"
#include "V${top}.h"

static const int N_IN = ${n_in}, IN_BW = ${in_width};
static const int N_OUT = ${n_out}, OUT_BW = ${out_width};
static const bool OUT_SIGNED = ${out_signed};

template <typename T>
static void put_bits(T& port, int lo, int bw, uint64_t v) {
    for (int b = 0; b < bw; ++b) {
        T bit = static_cast<T>(1) << (lo + b);
        port = ((v >> b) & 1u) ? static_cast<T>(port | bit) : static_cast<T>(port & ~bit);
    }
}

template <std::size_t N>
static void put_bits(VlWide<N>& port, int lo, int bw, uint64_t v) {
    for (int b = 0; b < bw; ++b) {
        int pos = lo + b;
        uint32_t mask = 1u << (pos % 32);
        if ((v >> b) & 1u) port[pos / 32] |= mask; else port[pos / 32] &= ~mask;
    }
}

template <typename T>
static uint64_t get_bits(const T& port, int lo, int bw) {
    uint64_t v = 0;
    for (int b = 0; b < bw; ++b) v |= static_cast<uint64_t>((port >> (lo + b)) & 1u) << b;
    return v;
}

template <std::size_t N>
static uint64_t get_bits(const VlWide<N>& port, int lo, int bw) {
    uint64_t v = 0;
    for (int b = 0; b < bw; ++b) {
        int pos = lo + b;
        v |= static_cast<uint64_t>((port[pos / 32] >> (pos % 32)) & 1u) << b;
    }
    return v;
}

int main(int argc, char** argv) {
    if (argc != 5) { std::fprintf(stderr, "usage: %s in.bin out.bin n_events n_cycles\n", argv[0]); return 2; }
    long n_events = std::atol(argv[3]), n_cycles = std::atol(argv[4]);
    std::vector<int64_t> in(static_cast<size_t>(n_events) * N_IN), out(static_cast<size_t>(n_cycles) * N_OUT);
    FILE* f = std::fopen(argv[1], "rb");
    if (!f || std::fread(in.data(), sizeof(int64_t), in.size(), f) != in.size()) { std::perror(argv[1]); return 1; }
    std::fclose(f);
    VerilatedContext ctx;
    V${top} dut(&ctx);
    dut.clk = 0;
    dut.eval();
    for (long t = 0; t < n_cycles; ++t) {
        const int64_t* ev = &in[static_cast<size_t>(t < n_events ? t : n_events - 1) * N_IN];
        for (int j = 0; j < N_IN; ++j) put_bits(dut.model_inp, j * IN_BW, IN_BW, static_cast<uint64_t>(ev[j]));
        dut.clk = 0;
        dut.eval();
        dut.clk = 1;
        dut.eval();
        for (int j = 0; j < N_OUT; ++j) {
            uint64_t raw = get_bits(dut.model_out, j * OUT_BW, OUT_BW);
            int64_t v = static_cast<int64_t>(raw);
            if (OUT_SIGNED && OUT_BW < 64 && ((raw >> (OUT_BW - 1)) & 1u)) v -= static_cast<int64_t>(1) << OUT_BW;
            out[static_cast<size_t>(t) * N_OUT + j] = v;
        }
    }
    dut.final();
    f = std::fopen(argv[2], "wb");
    if (!f || std::fwrite(out.data(), sizeof(int64_t), out.size(), f) != out.size()) { std::perror(argv[2]); return 1; }
    std::fclose(f);
    return 0;
}
