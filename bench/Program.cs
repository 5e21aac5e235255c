using ArtGrid.Bench;

// artgrid-bench COMMAND [options]; each command prints a table per part and ends with one line of name=value pairs.
return args switch
{
    ["decoders", .. var rest] => await DecoderBench.RunAsync(rest),
    ["jpeg", .. var rest] => await JpegVsDjpegBench.RunAsync(rest),
    ["--quick", .. var rest] => await QuickSuite.RunAsync(rest, quick: true),
    ["quick", .. var rest] => await QuickSuite.RunAsync(rest, quick: true),
    ["full", .. var rest] => await QuickSuite.RunAsync(rest, quick: false),
    ["micro", .. var rest] => PerImageSteps.Run(rest),
    ["preprocess", .. var rest] => PreprocessStagesBench.Run(rest),
    ["drift", .. var rest] => DriftBench.Run(rest),
    ["devices", .. var rest] => await DevicesBench.RunAsync(rest),
    ["capacity", .. var rest] => await CapacityBench.RunAsync(rest),
    ["model-cost", .. var rest] => ModelCostBench.Run(rest),
    ["gateway", .. var rest] => await GatewayBench.RunAsync(rest),
    ["queue", .. var rest] => await QueueBench.RunAsync(rest),
    ["console", .. var rest] => await ConsoleBench.RunAsync(rest),
    ["cached-jobs", .. var rest] => await CachedJobsBench.RunCommandAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: artgrid-bench --quick | quick | full [--photos DIR] [--rounds N] [--overload-seconds S] [--parts 1,2,3,4]
                                                  [--skip-memory] [--models DIR] [--model NAME[/VERSION]] [--out DIR] [--plots DIR]
          The performance suite, every ratio from paired, alternating rounds of one run:
            1. preprocessing per image (0.3, 2 and 12 MP JPEG, 2 MP PNG), ArtGrid against libvips and libjpeg-turbo;
            2. inference, raw ONNX Runtime against the inference grain, batch 1, 8, 16, every core and the served threads;
            3. the embedded pipeline (as artgrid score runs it) against 1 / (t_pre + t_infer), with latency;
            4. memory per in-flight 12 MP image, and peak resident memory under 2x overload.
          --quick is 5 rounds and 12 s of overload (under 10 minutes on 2 cores); full is 9 rounds and 60 s.
          --photos DIR   folders 0.3mp/ 2mp/ 12mp/ png/ (default: built once by bench/photo-mix.sh into OUT/photo-mix)
          --out DIR      raw numbers, bench-quick.json and bench-quick-rounds.csv (default: bench-results/)
          --plots DIR    the PNG plots (default: OUT/plots/; a run changes no tracked file)
          --update-docs  write the plots into docs/benchmarks/ instead, to refresh the documentation's copies
          --parts LIST   run only these parts (default 1,2,3,4)
          Served settings come from the defaults and ArtGrid__Inference__* variables (e.g. ArtGrid__Inference__IntraOpThreads=1),
          which every part uses: the silos it starts and the raw ONNX Runtime baseline alike.
          Part 1 needs vipsthumbnail (libvips-tools) and djpeg (libjpeg-turbo-progs): without them it is left out, saying
          so, and the other parts run. Last line: inference_ratio=… pipeline_ratio=…
          decode_vs_libvips=… t_pre_ms=… t_infer_ms=… p50_ms=… p99_ms=… peak_rss_mib_overload=… bytes_per_inflight=… and more.

        usage: artgrid-bench devices [--quick | --full] [--silos 4] [--devices 4] [--max-batch 32] [--base-ms 8] [--per-image-ms 1]
                                     [--queue-delay-ms 2] [--phase-seconds S] [--overload-seconds 60] [--consumers N]
                                     [--spill-batches B] [--models DIR] [--out DIR]
          The device layer at GPU rates without a GPU: silos in this process with simulated GPUs (a batch of n takes
          base + per-image*n ms), driven with ready-made tensors by an open-loop load generator through the intake gate,
          router, placement and batchers. Throughput at saturation over summed capacity, mean batch, p50/p99 at 50, 80 and
          95% of capacity, peak resident memory at 2x capacity. --quick: 10 s phases (about 2 minutes); --full: 30 s.
          Last line: sim_utilisation=… p99_ms_at_80=… mean_batch=… peak_rss_mib_overload=… and more.

        usage: artgrid-bench capacity [--quick] [--gpu-images-per-s 1000 | --base-ms A --per-image-ms B] [--cores C] [--photos DIR]
                                      [--rounds N] [--seconds S] [--table-rates 1000,5000,20000] [--node-cores 16,32,64] [--out DIR]
          The node capacity model: the decode worker pool as a silo builds it (sandboxed workers, the default decoder and
          the ArtGrid__Preprocessing__* settings) feeding a simulated GPU of the given rate (a batch of n takes A + B*n ms;
          --gpu-images-per-s R sets them so that a full batch runs at R) through the served batcher, closed loop, on the
          photo mix (--photos DIR with 0.3mp/ 2mp/ 12mp/ png/, default built once by bench/photo-mix.sh). Per size class
          and for the mix, in rotating rounds: decoding alone on 1 worker and on C (default: every core), and the pipeline
          of C workers and the GPU. Prints images/s per node, the bottleneck stage, decode CPU-ms per image, the scaling
          efficiency from 1 to C, and the cores per GPU (R x CPU-ms / 1000 / efficiency), then tables for --table-rates
          and --node-cores, extrapolated beyond C cores. --quick: 2 rounds of 2.5 s (1-2 minutes on 2 cores); default
          5 rounds of 8 s. Raw numbers: OUT/bench-capacity.json. Last line: node_images_per_s=… bottleneck=…
          cores_per_gpu=… decode_cpu_ms=… gpu_images_per_s=… cores=… efficiency=… and more.

        usage: artgrid-bench model-cost [--a NAME/VERSION] [--b NAME/VERSION] [--rounds 8] [--batch 8] [--threads 1] [--models DIR]
          One model version's cost per image against another's (default artgrid-resnet18/2 against /3), in alternating
          rounds of one process: preprocessing, then the serving session with head and activation maps, on the samples.
          Last line: infer_ms_a=… infer_ms_b=… infer_ratio_b_over_a=… pre_ms_a=… pre_ms_b=…

        usage: artgrid-bench gateway [--redis HOST:PORT] [--amqp URI] [--silos 2] [--images 200] [--concurrency 8] [--rounds 4]
                                     [--max-wait 120] [--out DIR]
          A bounded loopback load test of the moderation API: starts its own silos and gateway (from src/Silo and
          src/Gateway's Release build outputs; private cluster id, service id, queue and API key; 1 ONNX Runtime thread
          per silo) and drives them closed-loop with --concurrency callers: (a) new images through POST /v1/score,
          (b) the same images again under new job ids (the result cache answers), (c) those cached jobs straight to the
          bus as ScoreImages requests (claim check in Redis), (d) other new images straight to the bus. Each of --rounds
          rounds takes a slice of the images through all four, gateway and bus alternating first. Every answer is
          checked; failures are counted, printed and make the exit code 1. Stops what it started, also on Ctrl-C.
          --redis, --amqp  default 127.0.0.1 on $ARTGRID_REDIS_PORT (6390) and $ARTGRID_AMQP_PORT (5690): the test
                           servers (deploy/servers.sh up); bench/gateway-load.sh starts private servers and runs this
          --max-wait S     the gateway's MaxWaitSeconds and the bus request timeout (a job not done by then fails)
          --out DIR        gateway-load.json, gateway-load-requests.csv, gateway-load-logs/ (default: bench-results/)
          Last line: gateway_rps_uncached=… gateway_rps_cached=… bus_rps_uncached=… bus_rps_cached=…
          gateway_vs_bus_uncached=… gateway_vs_bus_cached=… p50_ms_cached=… p99_ms_cached=… p50_ms_uncached=…
          p99_ms_uncached=… failures=…

        usage: artgrid-bench queue [--quick] [--silos 2] [--images N] [--image-dir DIR] [--parts LIST] [--redis HOST:PORT --amqp URI]
                                   [--no-build] [--silo-setting NAME=VALUE ...] [--out DIR]
          ArtGrid at queue scale, each figure a ratio of two things measured in the same run: starts its own Redis and
          RabbitMQ (deploy/servers.sh on free ports; --redis/--amqp use running ones instead) and --silos silos, builds
          the silo and the command line first when their outputs are older than the sources (--no-build: never), makes
          --images images no cache has seen (default 160 with --quick, else 600; --image-dir DIR takes files from DIR),
          then runs, in this order: uncached (the bus against embedded artgrid score, on an empty cache), cached (cached
          jobs through the cluster against raw MassTransit request/response round trips), priority (high-priority jobs
          sent behind a backlog), jpeg (full-size JPEG decoding against djpeg). --parts picks some. Stops all it started.
          --out DIR   queue-bench.json and each part's raw numbers (default: bench-results/)
          --silo-setting NAME=VALUE  an environment variable for every silo, over the bench's own (repeatable), e.g.
                      DOTNET_gcServer=0 or ArtGrid__Bus__PrefetchCount=64: one build under other settings
          Last line: bus_vs_embedded=… cached_jobs_ratio=… priority_overtake=… jpeg_vs_djpeg=… and each part's details;
          failed_parts=… (exit code 1) when a part failed.

        usage: artgrid-bench console [--verdicts 1000] [--loads 7] [--silos 1] [--concurrency 16] [--redis HOST:PORT] [--amqp URI]
          The review page's load budget: starts its own silos and gateway, stores --verdicts verdicts as real jobs (the
          samples under new job ids through POST /v1/jobs; the result cache answers repeats), then loads
          /console/review#all --loads times in headless chromium (cache off) and takes the time from navigation start to
          the first verdict row in the DOM. Needs chromium (/usr/bin/chromium or $ARTGRID_CHROMIUM); --redis and --amqp
          as for gateway. Last line: console_first_row_ms_median=… console_first_row_ms_min=… console_first_row_ms_max=…
          verdicts=… queue_all=… loads=…

        usage: artgrid-bench cached-jobs [--quick] [--claim-check-all] [--silo-dll PATH] [--silos 2] [--redis HOST:PORT] [--amqp URI]
                                         [--silo-setting NAME=VALUE ...] [--out DIR]
          The cached part of the queue bench on its own: starts its own silos (on the servers as for gateway), scores
          samples/ once, then paired alternating rounds, 16 callers each, of (a) raw MassTransit request/response round
          trips to a trivial consumer in this process, (b) cached ScoreImages requests through the silos, (c) raw round
          trips carrying the job's image, (d) the cached jobs with each image sent by its SHA-256, and the contract's
          floor: the jobs of (d) answered by a trivial consumer in this process with a silo's verdict, (e) publishing
          the ImagesScored event as a silo does and (f) replying alone. Prints the Redis commands and CPU milliseconds
          per cached job, and round trips/s with an image-sized payload inline against claim-checked.
          --claim-check-all: every image claim-checked, as before small images went inline; --silo-dll: the silos of
          another build (a copy of an earlier build's src/Silo output), to compare two builds; --silo-setting as for queue.
          Last line: cached_jobs_ratio=… cached_jobs_per_s=… raw_round_trips_per_s=… cached_hash_jobs_ratio=…
          contract_floor_ratio=… contract_floor_reply_only_ratio=… cached_hash_jobs_vs_floor=… cpu_ms_per_*=… and more

        usage: artgrid-bench jpeg [--photos DIR] [--rounds N] [--quick] [--out DIR]
          Full-size JPEG decoding, one thread, on the JPEGs of the photo mix (0.3, 2, 12 MP): ArtGrid's default decoder
          and Skia in process against djpeg -outfile /dev/null (libjpeg-turbo-progs; start-up subtracted), in paired,
          alternating rounds (--quick: 5, else 11). Without djpeg it says how to install it and leaves jpeg_vs_djpeg out.
          --photos DIR as for quick (default: built once by bench/photo-mix.sh into OUT/photo-mix). Writes
          OUT/jpeg-vs-djpeg.json. Last line: jpeg_vs_djpeg=… (djpeg's time over ours: 1 is djpeg's speed)
          jpeg_skia_over_ours=… jpeg_ms_03mp=… skia_ms_03mp=… djpeg_ms_03mp=… and the same for 2mp and 12mp.

        usage: artgrid-bench micro [BenchmarkDotNet arguments]
          Micro-benchmarks (BenchmarkDotNet, in process by default): TensorPacker.Pack at 224x224, the linear head, the
          activation map's sums. --filter PATTERN picks some; --outOfProcess runs them out of process.

        usage: artgrid-bench decoders --corpus DIR [--images DIR] [--limit N] [--out DIR] [--skip-corpus] [--skip-sandbox]
          --corpus DIR   a decoder test corpus with manifest.csv (path,suite,expected,source); see bench/decoder-corpus/
          --images DIR   ordinary images for the speed and sandbox-cost runs (default: samples/)
          --limit N      use at most N of those images (default 400)
          --out DIR      where to write the per-file outcomes (default: bench-results/)
          --skip-corpus, --skip-sandbox   leave out part 1 (corpus) or part 3 (sandbox cost)

        usage: artgrid-bench preprocess --images DIR [--decoder Skia|ImageSharp] [--rounds N] [--no-watermark] [--full-decode] [--stages] [--compare SET]
          one-thread preprocessing time per image (median of rounds); --stages times each step of the pipeline;
          --compare SET alternates the options with SET changed (watermark, reduced-decode), round by round, and
          reports the median ratio; --full-decode turns reduced JPEG decoding off for the base set

        usage: artgrid-bench drift --images DIR [--model ID] [--models DIR] [--min-pixels N] [--against DECODER]
          the model's probability with and without reduced JPEG decoding, for every JPEG of DIR that is reduced, and
          whether an embedded watermark still decodes from a half-size decode; with --against Skia (or ImageSharp), the
          probability from the default decoder against that decoder's, for every JPEG of DIR, default options otherwise
        """);
    return 2;
}
