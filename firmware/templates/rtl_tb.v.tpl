// Icarus Verilog testbench of ${top}: one event per clock, the outputs written after each rising edge.
// inputs.hex: ${n_events} lines of ${in_bits} bits (the packed input port); outputs.hex: ${n_cycles} lines.
`timescale 1ns / 1ps
module tb;
    reg clk = 0;
    reg [${in_msb}:0] model_inp = 0;
    wire [${out_msb}:0] model_out;
    reg [${in_msb}:0] events [0:${last_event}];
    integer t, fd;

    ${top} dut (.clk(clk), .model_inp(model_inp), .model_out(model_out));

    initial begin
        $$readmemh("inputs.hex", events);
        fd = $$fopen("outputs.hex", "w");
        for (t = 0; t < ${n_cycles}; t = t + 1) begin
            model_inp = events[(t < ${n_events}) ? t : ${last_event}];
            #1 clk = 1;
            #1 $$fwrite(fd, "%h\n", model_out);
            clk = 0;
        end
        $$fclose(fd);
        $$finish;
    end
endmodule
