using ArtGrid.Bench;

// artgrid-bench COMMAND [options]; each command prints a table and ends with one line of name=value pairs.
return args switch
{
    ["decoders", .. var rest] => await DecoderBench.RunAsync(rest),
    ["preprocess", .. var rest] => PreprocessBench.Run(rest),
    ["drift", .. var rest] => DriftBench.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: artgrid-bench decoders --corpus DIR [--images DIR] [--limit N] [--out DIR] [--skip-corpus] [--skip-sandbox]
          --corpus DIR   a decoder test corpus with manifest.csv (path,suite,expected,source); see bench/decoder-corpus/
          --images DIR   ordinary images for the speed and sandbox-cost runs (default: samples/)
          --limit N      use at most N of those images (default 400)
          --out DIR      where to write the per-file outcomes (default: bench-results/)
          --skip-corpus, --skip-sandbox   leave out part 1 (corpus) or part 3 (sandbox cost)
        artgrid-bench preprocess --images DIR [--decoder Skia|ImageSharp] [--rounds N] [--no-watermark] [--full-decode] [--stages] [--compare SET]
          one-thread preprocessing time per image (median of rounds); --stages times each step of the pipeline;
          --compare SET alternates the options with SET changed (watermark, reduced-decode), round by round, and
          reports the median ratio; --full-decode turns reduced JPEG decoding off for the base set
        artgrid-bench drift --images DIR [--model ID] [--models DIR] [--min-pixels N]
          the model's probability with and without reduced JPEG decoding, for every JPEG of DIR that is reduced, and
          whether an embedded watermark still decodes from a half-size decode
        """);
    return 2;
}
