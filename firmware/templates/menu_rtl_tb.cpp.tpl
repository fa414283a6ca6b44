// Verilator testbench of the menu ${top}: one event per clock, the seed bits sampled after each rising edge.
// usage: tb <events.bin> <seeds.bin> <n_events> <n_cycles>
//   events.bin: n_events x ${n_words} int64 words (firmware/_menu_layout.py), each put on the ev bus at its width
//   seeds.bin:  n_cycles x ${n_seeds} uint8 (0/1), written by this program
// Cycle t presents event min(t, n_events - 1); the latency is found from the recorded bits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "verilated.h"
#include "V${top}.h"

static const int N_WORDS = ${n_words}, N_SEEDS = ${n_seeds};
static const int WIDTHS[N_WORDS] = {${widths}};

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
static int get_bit(const T& port, int pos) { return static_cast<int>((port >> pos) & 1u); }

template <std::size_t N>
static int get_bit(const VlWide<N>& port, int pos) { return static_cast<int>((port[pos / 32] >> (pos % 32)) & 1u); }

int main(int argc, char** argv) {
    if (argc != 5) { std::fprintf(stderr, "usage: %s events.bin seeds.bin n_events n_cycles\n", argv[0]); return 2; }
    long n_events = std::atol(argv[3]), n_cycles = std::atol(argv[4]);
    std::vector<int64_t> in(static_cast<size_t>(n_events) * N_WORDS);
    std::vector<uint8_t> out(static_cast<size_t>(n_cycles) * N_SEEDS);
    FILE* f = std::fopen(argv[1], "rb");
    if (!f || std::fread(in.data(), sizeof(int64_t), in.size(), f) != in.size()) { std::perror(argv[1]); return 1; }
    std::fclose(f);
    VerilatedContext ctx;
    V${top} dut(&ctx);
    dut.clk = 0;
    dut.eval();
    for (long t = 0; t < n_cycles; ++t) {
        const int64_t* ev = &in[static_cast<size_t>(t < n_events ? t : n_events - 1) * N_WORDS];
        int lo = 0;
        for (int j = 0; j < N_WORDS; ++j) { put_bits(dut.ev, lo, WIDTHS[j], static_cast<uint64_t>(ev[j])); lo += WIDTHS[j]; }
        dut.clk = 0;
        dut.eval();
        dut.clk = 1;
        dut.eval();
        for (int s = 0; s < N_SEEDS; ++s) out[static_cast<size_t>(t) * N_SEEDS + s] = static_cast<uint8_t>(get_bit(dut.seeds, s));
    }
    dut.final();
    f = std::fopen(argv[2], "wb");
    if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size()) { std::perror(argv[2]); return 1; }
    std::fclose(f);
    return 0;
}
