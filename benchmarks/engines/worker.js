/* One engine per worker (benchmarks/browser_engines.py): the page starts one worker per
 * engine; Python sends the commands below to one worker at a time, so the engines never
 * run at the same moment, and takes turns between them epoch by epoch.
 *
 * Every engine gets the same digits (float32 pixels in [0, 1], uint8 labels), the same two
 * networks (MLP 784-128-10 ReLU; CNN conv(8, 3x3 valid)-ReLU-maxpool(2)-dense(10)), softmax
 * cross-entropy, plain SGD, the same batch size, a shuffle every epoch. An engine's model
 * offers epoch() -> mean loss and predict() -> the labels of the held-out digits; this file
 * times them all the same way (performance.now() around the call, inside the worker).
 */
"use strict";

let engine = null; // {about, build(kind, data, job) -> model}, from ENGINES[job.engine]
let model = null; // {epoch() -> mean loss, predict() -> labels, profile?, dispose?}
let data = null;
let job = null;

/* Protocol: the page posts {id, cmd, args}; the worker answers {id, result} or {id, error}. */
self.onmessage = async (message) => {
  const { id, cmd, args } = message.data;
  try {
    self.postMessage({ id, result: await COMMANDS[cmd](args || {}) });
  } catch (error) {
    self.postMessage({ id, error: readable(error), stack: String((error && error.stack) || error) });
  }
};

const COMMANDS = {
  /* Download the digits, start the engine: {about} */
  async setup(args) {
    job = args;
    data = {
      trainX: new Float32Array(await bytes(job.data + "train_x.f32")),
      trainY: new Uint8Array(await bytes(job.data + "train_y.u8")),
      testX: new Float32Array(await bytes(job.data + "test_x.f32")),
      testY: new Uint8Array(await bytes(job.data + "test_y.u8")),
    };
    const started = performance.now();
    engine = await ENGINES[job.engine](job);
    engine.about.setupSeconds = (performance.now() - started) / 1000;
    return engine.about;
  },

  /* A fresh network of the kind "mlp" or "cnn", its data in the engine's own format. */
  async build({ kind }) {
    if (model && model.dispose) model.dispose();
    model = null;
    model = await engine.build(kind, data, job);
    return kind;
  },

  /* One training epoch: {seconds, loss}. */
  async epoch() {
    const start = performance.now();
    const loss = await model.epoch();
    return { seconds: (performance.now() - start) / 1000, loss: Number(loss) };
  },

  /* Labels of the held-out digits: {milliseconds, accuracy}. */
  async predict() {
    const start = performance.now();
    const labels = await model.predict();
    const milliseconds = performance.now() - start;
    let right = 0;
    for (let i = 0; i < data.testY.length; i++) right += labels[i] === data.testY[i] ? 1 : 0;
    return { milliseconds, accuracy: right / data.testY.length };
  },

  /* Where the engine's time goes in one more epoch (nncore only), or null. */
  async profile() {
    return model.profile ? model.profile() : null;
  },
};

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

function readable(error) {
  const text = String((error && error.message) || error);
  const kernel = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(text);
  if (kernel) return `no ${kernel[1]} kernel on ${kernel[2]}`;
  const lines = text.trim().split("\n").filter((line) => line.trim());
  return lines.length ? lines[lines.length - 1] : "unknown error";
}

/* A seeded shuffle (mulberry32), so every engine draws its own order the same way. */
function shuffler(seed) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (order) => {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  };
}

const ENGINES = {
  /* nncore in Pyodide: the site's runtime (its pyodide/ folder) and the site's nncore.zip. */
  async nncore(job) {
    self.importScripts(job.pyodide + "pyodide.js");
    const pyodide = await self.loadPyodide({ indexURL: job.pyodide });
    await pyodide.loadPackage("numpy");
    const fileSystem = pyodide.FS || pyodide._module.FS;
    const work = "/home/nncore-bench/";
    fileSystem.mkdirTree(work + "data");
    fileSystem.writeFile(work + "nncore.zip", new Uint8Array(await bytes(job.nncoreZip)));
    for (const name of ["train_x.f32", "train_y.u8", "test_x.f32", "test_y.u8"]) {
      fileSystem.writeFile(work + "data/" + name, new Uint8Array(await bytes(job.data + name)));
    }
    pyodide.runPython(new TextDecoder().decode(await bytes(job.engines + "nncore_bench.py")));
    const call = (name, args) => JSON.parse(pyodide.globals.get(name)(JSON.stringify(args || {})));
    const about = call("setup", { archive: work + "nncore.zip", directory: work + "lib", data: work + "data/" });
    about.pyodide = job.pyodideVersion;
    return {
      about,
      build(kind) {
        call("build", { kind, lr: job.lr, batch: job.batch, seed: job.seed });
        return { epoch: () => call("epoch"), predict: () => call("predict"), profile: () => call("profile") };
      },
    };
  },

  tfjs_wasm(job) {
    return tfjs(job, "wasm");
  },

  tfjs_cpu(job) {
    return tfjs(job, "cpu");
  },

  /* ConvNetJS: one sample at a time by design; its Trainer sums the gradients of batch_size
   * samples and steps with their mean. */
  convnetjs(job) {
    self.window = self; // convnet-min.js ends by assigning window.jsfeat
    self.importScripts(job.engines + "node_modules/convnetjs/build/convnet-min.js");
    const convnetjs = self.convnetjs;
    return {
      about: { version: "0.3.0 (npm convnetjs)" },
      build(kind, data) {
        const layers = [{ type: "input", out_sx: 28, out_sy: 28, out_depth: 1 }];
        if (kind === "mlp") layers.push({ type: "fc", num_neurons: 128, activation: "relu" });
        else {
          layers.push({ type: "conv", sx: 3, filters: 8, stride: 1, pad: 0, activation: "relu" });
          layers.push({ type: "pool", sx: 2, stride: 2 });
        }
        layers.push({ type: "softmax", num_classes: 10 }); // a dense(10) + softmax
        const net = new convnetjs.Net();
        net.makeLayers(layers);
        const trainer = new convnetjs.Trainer(net, {
          method: "sgd", learning_rate: job.lr, momentum: 0, batch_size: job.batch,
          l1_decay: 0, l2_decay: 0,
        });
        const volumes = (pixels) => {
          const list = [];
          for (let start = 0; start < pixels.length; start += 784) {
            const volume = new convnetjs.Vol(28, 28, 1, 0.0);
            volume.w.set(pixels.subarray(start, start + 784));
            list.push(volume);
          }
          return list;
        };
        const train = volumes(data.trainX);
        const test = volumes(data.testX);
        const order = Int32Array.from(train.keys());
        const shuffle = shuffler(job.seed);
        return {
          epoch() {
            shuffle(order);
            let total = 0;
            for (const index of order) total += trainer.train(train[index], data.trainY[index]).cost_loss;
            return total / order.length;
          },
          predict() {
            return test.map((volume) => {
              net.forward(volume, false);
              return net.getPrediction();
            });
          },
        };
      },
    };
  },
};

/* TensorFlow.js: a tf.sequential model, trained by the leanest loop the API offers
 * (optimizer.minimize per batch, the batch gathered from tensors already on the backend,
 * the loss read back per batch as nncore's loop does); predict in slices of 256 like nncore. */
async function tfjs(job, backend) {
  self.importScripts(job.engines + "node_modules/@tensorflow/tfjs/dist/tf.min.js");
  const tf = self.tf;
  if (backend === "wasm") {
    self.importScripts(job.engines + "node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js");
    tf.wasm.setWasmPaths(job.engines + "node_modules/@tensorflow/tfjs-backend-wasm/dist/");
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
  await tf.ready();
  const about = { version: tf.version.tfjs, backend: tf.getBackend() };
  if (backend === "wasm") {
    about.simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    about.threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  }
  return {
    about,
    build(kind, data) {
      const shape = kind === "mlp" ? [784] : [28, 28, 1];
      const layers = kind === "mlp"
        ? [tf.layers.dense({ inputShape: shape, units: 128, activation: "relu" })]
        : [tf.layers.conv2d({ inputShape: shape, filters: 8, kernelSize: 3, strides: 1, padding: "valid", activation: "relu" }),
           tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
           tf.layers.flatten()];
      layers.push(tf.layers.dense({ units: 10 })); // logits; the loss applies the softmax
      const model = tf.sequential({ layers });
      const optimizer = tf.train.sgd(job.lr);
      const count = data.trainY.length;
      const x = tf.tensor(data.trainX, [count, ...shape]);
      const y = tf.oneHot(tf.tensor1d(data.trainY, "int32"), 10).toFloat();
      const testX = tf.tensor(data.testX, [data.testY.length, ...shape]);
      const order = Int32Array.from(Array(count).keys());
      const shuffle = shuffler(job.seed);
      return {
        epoch() {
          shuffle(order);
          let total = 0;
          for (let start = 0; start < count; start += job.batch) {
            const chosen = order.subarray(start, Math.min(start + job.batch, count));
            const [xb, yb] = tf.tidy(() => {
              const indices = tf.tensor1d(chosen, "int32");
              return [tf.gather(x, indices), tf.gather(y, indices)];
            });
            const cost = optimizer.minimize(
              () => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true })), true);
            total += cost.dataSync()[0] * chosen.length;
            tf.dispose([xb, yb, cost]);
          }
          return total / count;
        },
        predict() {
          const labels = tf.tidy(() => model.predict(testX, { batchSize: 256 }).argMax(-1));
          const values = labels.dataSync();
          labels.dispose();
          return values;
        },
        dispose() {
          tf.dispose([x, y, testX]);
          model.dispose();
          optimizer.dispose();
        },
      };
    },
  };
}
