using GenNets;

namespace GenNets.Tests.Networks;

// Attention, embeddings and positional encodings: shared with the ONNX tests, which compile this file too.

// Sinusoidal positions, two heads over a float sequence, mean pooling, a classifier.
[Input(6, 8)]
[PositionalEncoding]
[SelfAttention(2, Name = "attn")]
[GlobalAvgPool]
[Dense(3)]
public partial class AttentionClassifier { }

// A learned table longer than the input, four causal heads, a per-position output.
[Input(5, 8)]
[PositionalEncoding(Learned = true, Length = 7)]
[SelfAttention(4, Causal = true)]
[Dense(4, Activation.GELUTanh)]
[Dense(2)]
[Loss(LossKind.MeanSquaredError)]
public partial class CausalTagger { }

// One pre-LN encoder layer (the shorthand), a final norm, mean pooling.
[Input(6, 8)]
[TransformerEncoder(1, 2, 16, Name = "encoder")]
[LayerNorm(Name = "norm")]
[GlobalAvgPool]
[Dense(3, Name = "head")]
public partial class EncoderClassifier { }

// A character-level language model in miniature: token ids, embeddings, two causal encoder layers, a logit per
// vocabulary entry at every position.
[TokenInput(7, 11)]
[Embedding(8, Name = "wte")]
[PositionalEncoding]
[TransformerEncoder(2, 2, 16, Causal = true, Activation = Activation.GELUTanh, Name = "encoder")]
[LayerNorm(Name = "ln_f")]
[Dense(11, Name = "head")]
public partial class TinyLanguageModel { }

// PEERS.md's Transformer in the shorthand: large enough per sample that a batch is cut into several chunks.
[Input(32, 64)]
[TransformerEncoder(1, 4, 256, Name = "encoder")]
[GlobalAvgPool]
[Dense(10, Name = "fc")]
public partial class WideEncoder { }

// Thirteen positions: inference keeps each pair of dense layers (the feed-forward's, and the two at the end, the last
// writing the network's output) in strips between them, the last strip part-filled at any batch.
[Input(13, 8)]
[TransformerEncoder(1, 2, 24, Name = "encoder")]
[Dense(5, Activation.Tanh)]
[Dense(3)]
[Loss(LossKind.MeanSquaredError)]
public partial class OddEncoder { }
