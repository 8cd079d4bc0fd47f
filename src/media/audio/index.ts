// Public surface of the audio library: codecs and containers used by the engine and the reference client.
export { loadSpeechProgram, validateAudioFormat, frameBytes, DEFAULT_SPEECH_DIR, BASE_FRAME_MS, MASTER_RATE } from './speech-program.ts';
export { parseWav, encodeWav, wavHeader, WavWriter, type PcmAudio } from './wav.ts';
export { G722Encoder, G722Decoder, encodeG722, decodeG722 } from './g722.ts';
export { readOggPackets, demuxOggOpus, muxOggOpus, oggCrc, type OggPacket, type OpusHead, type OggOpusOptions } from './ogg.ts';
export {
  resample,
  monoToStereo,
  stereoToMono,
  int16ToLeBytes,
  leBytesToInt16,
  linearToMulaw,
  mulawToLinear,
  linearToAlaw,
  alawToLinear,
  encodeMulaw,
  decodeMulaw,
  encodeAlaw,
  decodeAlaw,
  mixClips,
  rms,
  rotate,
  type PcmRate,
  type PlacedClip,
  type ResampleOptions,
} from './pcm.ts';
