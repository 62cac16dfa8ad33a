using GenNets;
using GenNets.Data;
using GenNets.Training;
using GenNetsApp;

// Trains the classifier of Network.cs, reports each epoch, then saves the weights and loads them back.
//   dotnet run -c Release                            synthetic data: points inside or outside a circle
//   dotnet run -c Release -- --csv points.csv        your own rows of x,y,label (with a header row)
//   dotnet run -c Release -- --epochs 50
string? csv = null;
int epochs = 20;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--csv" && i + 1 < args.Length) csv = args[++i];
    else if (args[i] == "--epochs" && i + 1 < args.Length && int.TryParse(args[i + 1], out epochs) && epochs > 0) i++;
    else
    {
        Console.Error.WriteLine($"Unknown or incomplete option '{args[i]}'. Options: --csv FILE, --epochs N (N > 0).");
        return 1;
    }
}

try
{
    Dataset data = csv is null ? Circle(count: 2000, seed: 1) : Csv.LoadLabelled(csv);
    Console.WriteLine(csv is null ? $"{data.Count} synthetic points" : $"{data.Count} rows from {csv}");
    int trainCount = data.Count * 4 / 5; // the first 80% to train on, the rest to validate
    Dataset train = data.Slice(0, trainCount), validation = data.Slice(trainCount, data.Count - trainCount);

    var model = new Classifier(seed: 42);
    Console.WriteLine(model.Summary());
    // A progress bar per epoch and a line of results as each ends; the best epoch's weights are kept.
    var trainer = new Trainer<Classifier>(model, new Adam(0.01f)) { EarlyStopping = new EarlyStopping(patience: 5) };
    var history = trainer.Fit(train, epochs, batchSize: 32, validation, progress: new ConsoleProgressBar(), seed: 42);
    Console.WriteLine($"trained {history.Count} epochs: loss {history[0].TrainLoss:F4} -> {history[^1].TrainLoss:F4}" +
        (trainer.StoppedEarly ? $"; stopped early, keeping epoch {trainer.BestEpoch}" : ""));

    model.Save("model.safetensors");
    var reloaded = new Classifier(seed: 0);
    reloaded.Load("model.safetensors");
    var check = Trainer<Classifier>.Evaluation(reloaded, validation);
    Console.WriteLine($"saved model.safetensors; reloaded, it scores {check.Accuracy:P1} on the validation set");
    Console.WriteLine($"the point (0.1, 0.2) is class {reloaded.Predict([0.1f, 0.2f])}");
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 1;
}

// Points spread evenly over [-1, 1]²; class 1 inside the circle of radius 0.7, class 0 outside.
static Dataset Circle(int count, int seed)
{
    var random = new Random(seed);
    var features = new float[count * 2];
    var labels = new int[count];
    for (int i = 0; i < count; i++)
    {
        float x = random.NextSingle() * 2 - 1, y = random.NextSingle() * 2 - 1;
        features[2 * i] = x;
        features[2 * i + 1] = y;
        labels[i] = x * x + y * y < 0.49f ? 1 : 0;
    }
    return Dataset.WithLabels(features, 2, labels);
}
