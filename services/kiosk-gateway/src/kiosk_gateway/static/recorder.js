// The camera, the microphone and MediaRecorder. Kept in memory only: nothing is written to the
// booth's disk, and a reset drops every reference so the recording is gone.

const TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];

export class CameraUnavailable extends Error {}

export class Recorder {
  constructor() {
    this.stream = null;
    this.recorder = null;
    this.chunks = [];
    this.startedAt = 0;
  }

  async open(preview) {
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") {
      throw new CameraUnavailable("no media devices");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: { echoCancellation: true, noiseSuppression: true },
      });
    } catch (error) {
      throw new CameraUnavailable(error?.name || "refused");
    }
    // An appeal without sound (or picture) is no appeal: both must be there.
    if (!this.stream.getVideoTracks().length || !this.stream.getAudioTracks().length) {
      this.close();
      throw new CameraUnavailable("missing track");
    }
    preview.srcObject = this.stream;
    return this.stream;
  }

  get isOpen() {
    return Boolean(this.stream);
  }

  start() {
    const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    this.chunks = [];
    this.recorder = new MediaRecorder(this.stream, {
      mimeType,
      videoBitsPerSecond: 1_500_000,
      audioBitsPerSecond: 64_000,
    });
    this.recorder.ondataavailable = (event) => {
      if (event.data.size) this.chunks.push(event.data);
    };
    this.recorder.start(1000);
    this.startedAt = performance.now();
  }

  elapsed() {
    return this.recorder ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  stop() {
    const recorder = this.recorder;
    if (!recorder) return Promise.resolve(null);
    const seconds = this.elapsed();
    return new Promise((resolve) => {
      recorder.onstop = () => {
        const blob = new Blob(this.chunks, { type: "video/webm" });
        this.chunks = [];
        this.recorder = null;
        resolve({ blob, seconds });
      };
      recorder.stop();
    });
  }

  // Drop everything, mid-recording included (the citizen walked away).
  close() {
    if (this.recorder) {
      this.recorder.ondataavailable = null;
      this.recorder.onstop = null;
      if (this.recorder.state !== "inactive") this.recorder.stop();
      this.recorder = null;
    }
    this.chunks = [];
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }
}

// PUT the recording with progress; resolves {status, body}, status 0 on a network failure.
export function uploadOnce(url, blob, headers, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Content-Type", "video/webm");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => resolve({ status: 0, body: null });
    xhr.ontimeout = () => resolve({ status: 0, body: null });
    xhr.onabort = () => resolve({ status: 0, body: null });
    xhr.send(blob);
  });
}
