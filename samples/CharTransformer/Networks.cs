using GenNets;

namespace CharTransformerSample;

/// <summary>The sizes every network here is declared with: constants, as the attributes need them.</summary>
public static class Corpus
{
    /// <summary>Characters per window: the context a network sees, and the positions it predicts.</summary>
    public const int Window = 64;

    /// <summary>
    /// Every character of the committed text, sorted: a character's id is its index here. The loader checks that the
    /// text holds no other character and that <see cref="Vocabulary"/> is this string's length.
    /// </summary>
    public const string Characters = "\n !'(),-.0123456789:;?ABCDEFGHIJKLMNOPRSTUVWYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The length of <see cref="Characters"/> (a string's length is no compile-time constant; checked at load).</summary>
    public const int Vocabulary = 72;

    /// <summary>The transformer's width (features per position).</summary>
    public const int Width = 64;
}

// ---- The transformer: a GPT-like causal language model, pre-LN, as PyTorch's nn.TransformerEncoder with norm_first=True ----

/// <summary>
/// Character ids in, a logit per character of the vocabulary at every position out: the logits at position t predict
/// character t + 1, from characters 0 to t only (causal attention). Each of the four encoder layers is
/// x = x + SelfAttention(LayerNorm(x)), then x = x + Dense(64)(GELU(Dense(256)(LayerNorm(x)))), with four heads.
/// </summary>
[TokenInput(Corpus.Window, Corpus.Vocabulary)]
[Embedding(Corpus.Width, Name = "wte")]
[PositionalEncoding]
[TransformerEncoder(4, 4, 4 * Corpus.Width, Causal = true, Activation = Activation.GELUTanh, Name = "encoder")]
[LayerNorm(Name = "ln_f")]
[Dense(Corpus.Vocabulary, Name = "head")]
public partial class CharTransformer { }

// ---- The recurrent baseline, on the same windows: an LSTM's state at each step predicts the next character ----

/// <summary>Character ids in, an LSTM over the window, a logit per character at every step.</summary>
[TokenInput(Corpus.Window, Corpus.Vocabulary)]
[Embedding(Corpus.Width, Name = "embedding")]
[LSTM(256, ReturnSequences = true, ForgetBias = 1f, Name = "lstm")]
[Dense(Corpus.Vocabulary, Name = "head")]
public partial class CharLstm { }
