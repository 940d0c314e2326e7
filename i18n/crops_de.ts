<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AdaptAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="222"/>
        <source>Adapt (baselines)</source>
        <translation>Anpassen (Vergleichsverfahren)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="224"/>
        <source>Method</source>
        <translation>Methode</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="228"/>
        <source>Source model</source>
        <translation>Quellmodell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="229"/>
        <source>Target block store</source>
        <translation>Ziel-Blockspeicher</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="230"/>
        <source>Blocks</source>
        <translation>Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="234"/>
        <source>Iterations</source>
        <translation>Iterationen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="235"/>
        <source>Batch size (blocks)</source>
        <translation>Batchgröße (Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="236"/>
        <source>Learning rate (empty: the method&apos;s default)</source>
        <translation>Lernrate (leer: Standardwert der Methode)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="238"/>
        <source>entropy: parameters to train</source>
        <translation>entropy: zu trainierende Parameter</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="242"/>
        <source>entropy: diversity weight</source>
        <translation>entropy: Diversitätsgewicht</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="243"/>
        <source>entropy: diversity prior</source>
        <translation>entropy: Diversitäts-Prior</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="246"/>
        <source>self_training: teacher EMA momentum</source>
        <translation>self_training: EMA-Momentum des Lehrers</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="247"/>
        <source>self_training: confidence threshold (highest)</source>
        <translation>self_training: Konfidenzschwelle (Höchstwert)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="248"/>
        <source>self_training: share of each class pseudo-labelled</source>
        <translation>self_training: pseudo-gelabelter Anteil je Klasse</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="249"/>
        <source>self_training: rounds</source>
        <translation>self_training: Runden</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="250"/>
        <source>self_training: photometric jitter</source>
        <translation>self_training: photometrisches Jittering</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="266"/>
        <source>Blocks of the initial calibration pass</source>
        <translation>Blöcke des ersten Kalibrierungsdurchlaufs</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="251"/>
        <source>co_training: rounds</source>
        <translation>co_training: Runden</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="252"/>
        <source>co_training: epochs per round</source>
        <translation>co_training: Epochen je Runde</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="253"/>
        <source>co_training: final epochs</source>
        <translation>co_training: finale Epochen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="254"/>
        <source>co_training: share kept per class</source>
        <translation>co_training: je Klasse behaltener Anteil</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="255"/>
        <source>co_training: minimum pixels per class per block</source>
        <translation>co_training: Mindestpixel je Klasse und Block</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="256"/>
        <source>co_training: fusion</source>
        <translation>co_training: Zusammenführung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="260"/>
        <source>co_training: models</source>
        <translation>co_training: Modelle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="261"/>
        <source>co_training: how the two models differ</source>
        <translation>co_training: wie sich die beiden Modelle unterscheiden</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="225"/>
        <source>Entropy minimisation</source>
        <translation>Entropieminimierung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="226"/>
        <source>Self-training (mean teacher)</source>
        <translation>Selbsttraining (Mean Teacher)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="227"/>
        <source>Co-training (two models)</source>
        <translation>Co-Training (zwei Modelle)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="231"/>
        <source>All blocks</source>
        <translation>Alle Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="232"/>
        <source>Easy blocks</source>
        <translation>Leichte Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="233"/>
        <source>Hard blocks</source>
        <translation>Schwere Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="239"/>
        <source>Normalisation layers</source>
        <translation>Normalisierungsschichten</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="240"/>
        <source>Encoder</source>
        <translation>Encoder</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="241"/>
        <source>All parameters</source>
        <translation>Alle Parameter</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="244"/>
        <source>Uniform</source>
        <translation>Gleichverteilt</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="245"/>
        <source>The source&apos;s class shares</source>
        <translation>Die Klassenanteile der Quelle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="257"/>
        <source>The more confident model</source>
        <translation>Das sicherere Modell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="258"/>
        <source>Where both agree</source>
        <translation>Wo beide übereinstimmen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="259"/>
        <source>Mean of the probabilities</source>
        <translation>Mittel der Wahrscheinlichkeiten</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="262"/>
        <source>Snapshots of one run</source>
        <translation>Schnappschüsse eines Laufs</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="263"/>
        <source>Two runs with other seeds</source>
        <translation>Zwei Läufe mit anderen Seeds</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="223"/>
        <source>Adapts a source model to the target area without any source data, with a baseline method (to measure what SPCL adds).

entropy: entropy minimisation with a diversity term (Tent / SHOT). Parameters: norm (only the normalisation layers, Tent), encoder (all but the heads, SHOT) or all. The diversity term, times Diversity weight, keeps the batch&apos;s class shares near equal shares (prior uniform) or near the source model&apos;s shares on the target (source).
self_training: a teacher (moving average of the student, momentum EMA) labels target pixels whose confidence reaches a per-class threshold: each class keeps its most confident Portion of pixels, never demanding more than Confidence threshold; thresholds are refreshed in each of Rounds rounds. The student learns them from a jittered view. The teacher is the adapted model.
co_training: two models collaborate through pseudo-labels. A self-training stage (the self_training settings, Iterations steps) gives two models: two snapshots of it (half-way and at the end) or two runs with different seeds (co_training: how the two models differ). Then, in each of the co_training: rounds, both models label the target and their labels are fused (agreement: where they agree; confidence: the more confident where they disagree; mean: their mean probabilities); each class keeps its most confident share of pixels (co_training: share kept per class), and a block keeps a class only with at least co_training: minimum pixels per class per block of it. Each model is then retrained for co_training: epochs per round on these pseudo-labels, mixed by ClassMix between target blocks. A final model, started from the source model, learns the last fused pseudo-labels (co_training: final epochs); it is the adapted model. co_training: models 1 leaves out the second model (an ablation). The stages&apos; models and labels are kept in name.co_training beside the output; the log holds each round&apos;s class shares, agreement and thresholds.

Generic add-ons, off by default so the baselines stay what they are named (the SPCL command has both on): Re-estimate BatchNorm statistics (AdaBN: the statistics of the source model&apos;s BatchNorm layers are replaced by their average over the target blocks before anything else) and Hold the class distribution (the probabilities that are pseudo-labelled, or whose entropy is minimised, are multiplied by the first model&apos;s class distribution on the target over their running one, ReMixMatch&apos;s distribution alignment). With both on, entropy and self_training get what SPCL gets before its own parts.

Blocks: all target blocks, or the easy / hard split of Partition. Learning rate empty: the method&apos;s default (entropy 0.001, self_training and co_training 0.00003).
Output: the adapted model (.safetensors; provenance: the source model&apos;s SHA-256, the target store and every hyper-parameter). Beside it: name.adapt.json (configuration and loss history) and name.resume.safetensors (give it to Resume to continue). Cancel keeps the last complete checkpoint.</source>
        <translation>Passt ein Quellmodell ohne jegliche Quelldaten an das Zielgebiet an, mit einem Vergleichsverfahren (um zu messen, was SPCL zusätzlich bringt).

entropy: Entropieminimierung mit einem Diversitätsterm (Tent / SHOT). Parameter: norm (nur die Normalisierungsschichten, Tent), encoder (alles außer den Köpfen, SHOT) oder all. Der Diversitätsterm, multipliziert mit dem Diversitätsgewicht, hält die Klassenanteile des Batches nahe an gleichen Anteilen (Prior uniform) oder nahe an den Anteilen des Quellmodells im Zielgebiet (source).
self_training: Ein Lehrer (gleitender Mittelwert des Schülers, Momentum EMA) labelt Zielpixel, deren Konfidenz eine klassenspezifische Schwelle erreicht: Jede Klasse behält ihren Anteil der sichersten Pixel, ohne je mehr als die Konfidenzschwelle zu verlangen; die Schwellen werden in jeder der Runden neu bestimmt. Der Schüler lernt sie an einer photometrisch verrauschten Ansicht. Der Lehrer ist das angepasste Modell.
co_training: Zwei Modelle arbeiten über Pseudo-Labels zusammen. Eine Self-Training-Phase (die self_training-Einstellungen, Iterationen Schritte) liefert zwei Modelle: zwei Schnappschüsse davon (auf halbem Weg und am Ende) oder zwei Läufe mit verschiedenen Seeds (co_training: wie sich die beiden Modelle unterscheiden). Dann labeln in jeder der co_training: Runden beide Modelle das Ziel, und ihre Labels werden zusammengeführt (agreement: wo sie übereinstimmen; confidence: das sicherere, wo sie sich widersprechen; mean: ihre mittleren Wahrscheinlichkeiten); jede Klasse behält ihren sichersten Anteil an Pixeln (co_training: je Klasse behaltener Anteil), und ein Block behält eine Klasse nur mit mindestens co_training: Mindestpixel je Klasse und Block davon. Jedes Modell wird dann co_training: Epochen je Runde lang auf diesen Pseudo-Labels nachtrainiert, gemischt per ClassMix zwischen Zielblöcken. Ein finales Modell, vom Quellmodell ausgehend, lernt die letzten zusammengeführten Pseudo-Labels (co_training: finale Epochen); es ist das angepasste Modell. co_training: Modelle 1 lässt das zweite Modell weg (eine Ablation). Die Modelle und Labels der Phasen bleiben in name.co_training neben der Ausgabe; das Protokoll enthält je Runde die Klassenanteile, die Übereinstimmung und die Schwellen.

Allgemeine Zusätze, standardmäßig aus, damit die Vergleichsverfahren bleiben, was ihr Name sagt (der SPCL-Befehl hat beide an): BatchNorm-Statistiken neu schätzen (AdaBN: die Statistiken der BatchNorm-Schichten des Quellmodells werden vor allem anderen durch ihren Mittelwert über die Zielblöcke ersetzt) und Klassenverteilung halten (die Wahrscheinlichkeiten, die pseudo-gelabelt werden oder deren Entropie minimiert wird, werden mit der Klassenverteilung des ersten Modells im Zielgebiet geteilt durch ihre laufende multipliziert, die Verteilungsangleichung von ReMixMatch). Mit beiden an bekommen entropy und self_training, was SPCL vor seinen eigenen Teilen bekommt.

Blöcke: alle Zielblöcke oder die leichte / schwere Aufteilung aus Aufteilung leicht / schwer. Lernrate leer: der Standardwert der Methode (entropy 0.001, self_training und co_training 0.00003).
Ausgabe: das angepasste Modell (.safetensors; Herkunft: SHA-256 des Quellmodells, der Zielspeicher und jeder Hyperparameter). Daneben: name.adapt.json (Konfiguration und Verlustverlauf) und name.resume.safetensors (an Fortsetzen von übergeben, um weiterzumachen). Abbrechen behält den letzten vollständigen Checkpoint.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="264"/>
        <source>entropy, self_training: re-estimate BatchNorm statistics on the target</source>
        <translation>entropy, self_training: BatchNorm-Statistiken im Zielgebiet neu schätzen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="265"/>
        <source>entropy, self_training: hold the class distribution</source>
        <translation>entropy, self_training: Klassenverteilung halten</translation>
    </message>
</context>
<context>
    <name>AdaptSpclAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="277"/>
        <source>Adapt with SPCL</source>
        <translation>Mit SPCL anpassen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="279"/>
        <source>Source model</source>
        <translation>Quellmodell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="280"/>
        <source>Target block store (partitioned)</source>
        <translation>Ziel-Blockspeicher (aufgeteilt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="281"/>
        <source>Iterations</source>
        <translation>Iterationen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="282"/>
        <source>Batch size (easy and hard blocks each)</source>
        <translation>Batchgröße (je leichte und schwere Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="283"/>
        <source>Learning rate</source>
        <translation>Lernrate</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="284"/>
        <source>Teacher EMA momentum</source>
        <translation>EMA-Momentum des Lehrers</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="285"/>
        <source>Temperature</source>
        <translation>Temperatur</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="286"/>
        <source>Confidence threshold</source>
        <translation>Konfidenzschwelle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="287"/>
        <source>Contrastive weight</source>
        <translation>Kontrastgewicht</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="291"/>
        <source>Hard schedule</source>
        <translation>Zeitplan der schweren Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="298"/>
        <source>Share of hard blocks at the start (linear)</source>
        <translation>Anteil schwerer Blöcke zu Beginn (linear)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="302"/>
        <source>Easy-block pseudo-label weight (0: off)</source>
        <translation>Pseudo-Label-Gewicht der leichten Blöcke (0: aus)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="303"/>
        <source>Photometric jitter of the mixed view</source>
        <translation>Photometrisches Jittering der gemischten Ansicht</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="299"/>
        <source>ClassMix weighting</source>
        <translation>ClassMix-Gewichtung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="304"/>
        <source>Re-estimate BatchNorm statistics on the target</source>
        <translation>BatchNorm-Statistiken auf dem Zielgebiet neu schätzen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="311"/>
        <source>Embedding pixel stride (1: every pixel)</source>
        <translation>Pixelschrittweite der Einbettungen (1: jedes Pixel)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="312"/>
        <source>Blocks of the first passes (0: all)</source>
        <translation>Blöcke der ersten Durchläufe (0: alle)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="305"/>
        <source>Hold the pseudo-labels&apos; class distribution (alignment)</source>
        <translation>Klassenverteilung der Pseudo-Labels halten (Angleichung)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="310"/>
        <source>Rectify pseudo-labels with the class prototypes</source>
        <translation>Pseudo-Labels mit den Klassenprototypen rektifizieren</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="288"/>
        <source>Prototypes</source>
        <translation>Prototypen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="289"/>
        <source>Point (mean embedding per class)</source>
        <translation>Punkt (mittlere Einbettung je Klasse)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="290"/>
        <source>Probabilistic (PPPC)</source>
        <translation>Probabilistisch (PPPC)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="292"/>
        <source>Constant (all hard blocks)</source>
        <translation>Konstant (alle schweren Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="293"/>
        <source>Linear (from the start share to all)</source>
        <translation>Linear (vom Anfangsanteil bis alle)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="300"/>
        <source>Block&apos;s confident share</source>
        <translation>Sicherer Anteil des Blocks</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="301"/>
        <source>Pixel&apos;s confidence</source>
        <translation>Konfidenz des Pixels</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="294"/>
        <source>Contrast targets</source>
        <translation>Kontrastziele</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="295"/>
        <source>Confident hard pixels (their label)</source>
        <translation>Sichere schwierige Pixel (ihr Label)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="296"/>
        <source>All hard pixels (soft prototype targets, margin-weighted)</source>
        <translation>Alle schwierigen Pixel (weiche Prototyp-Ziele, nach Abstand gewichtet)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="297"/>
        <source>Prototype momentum (0: running mean)</source>
        <translation>Prototyp-Momentum (0: laufender Mittelwert)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="306"/>
        <source>Class distribution held (alignment)</source>
        <translation>Gehaltene Klassenverteilung (Angleichung)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="307"/>
        <source>The first teacher&apos;s (after BatchNorm re-estimation)</source>
        <translation>Die des ersten Lehrers (nach der BatchNorm-Neuschätzung)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="308"/>
        <source>The source model&apos;s, before BatchNorm re-estimation</source>
        <translation>Die des Quellmodells, vor der BatchNorm-Neuschätzung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="309"/>
        <source>Mix easy classes into the hard blocks (ClassMix)</source>
        <translation>Klassen leichter Blöcke in die schweren mischen (ClassMix)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="278"/>
        <source>Adapts a source model to the target area without any source data: Semantic Prototypical Contrastive Learning on a target block store split into easy and hard blocks (run Partition first).

The source model&apos;s BatchNorm statistics are first re-estimated on the target blocks. A teacher (an exponential moving average of the student, momentum EMA) then labels an easy and a hard batch each step. The hard batch follows an easy-to-hard curriculum (Hard schedule linear): it starts with Share of hard blocks at the start of hard blocks, the rest easy ones, and ends with only hard blocks (constant: only hard blocks from the first step). Class prototypes are the running means of the teacher&apos;s embeddings of easy pixels it is confident about (confidence &gt;= Confidence threshold), started with one pass over the easy blocks. The student learns a ClassMix of easy-block classes pasted onto hard blocks, each pixel weighted by the teacher&apos;s confidence in it (or each block by how many of its pixels the teacher is confident about), plus Contrastive weight x a prototype contrastive loss that reaches every hard pixel of the mixed block, the low-confidence ones too: its target is the softmax of the teacher&apos;s embedding&apos;s similarities to the prototypes (Temperature scales them), weighted by the teacher&apos;s margin, so the pull fades to nothing at the decision boundary. The teacher&apos;s probabilities are weighted by each pixel&apos;s similarity to the class prototypes (prototype rectification), so a pixel whose embedding lies by another class&apos;s prototype loses confidence or changes label; with Hold the pseudo-labels&apos; class distribution they are also rescaled so that the pseudo-labels keep the class distribution predicted on the target at the start (distribution alignment).
The defaults are the parts that gained in an ablation on seeds they were not tuned on (bench/results/adaptation_notes.md); distribution alignment and moving prototypes did not, and are options.
Prototypes probabilistic (PPPC): each pixel&apos;s embedding and each prototype is a Gaussian, the pixel&apos;s variance from a variance head trained beside the projection head, the prototype&apos;s from its easy pixels; the contrastive loss and the rectification compare them by their mutual likelihood score, so an ambiguous pixel (high variance) pulls less and weighs less in its prototype. The variance head is used only while adapting.

Advanced parameters:
Contrast targets: which hard pixels the contrastive loss reaches. Confident: those the teacher labels with confidence &gt;= Confidence threshold, pulled to their label&apos;s prototype. Soft: every hard pixel of the mixed block, its target the softmax of the teacher&apos;s embedding&apos;s similarities to the prototypes, weighted by the teacher&apos;s margin (its top class&apos;s probability minus the second&apos;s), so the pull fades to nothing at the decision boundary; it costs the projection head on the hard batch&apos;s teacher pass.
Prototype momentum (0: running mean): 0 keeps each prototype the mean of every confident easy pixel seen; above 0, after the first pass each step moves the prototypes of the classes in its easy batch towards that batch&apos;s mean (prototype = momentum x prototype + (1 - momentum) x batch mean, then unit length), so they follow the adapting features. Point prototypes only.
Share of hard blocks at the start (linear): with Hard schedule linear, the share of hard blocks in the hard batch at the first step; it grows to all hard blocks at the last.
ClassMix weighting: how much a mixed pixel counts: its own confidence, or the share of its block&apos;s pixels the teacher is confident about (one weight per block, as in DACS).
Easy-block pseudo-label weight (0: off): adds the cross-entropy of the teacher&apos;s pseudo-labels on the easy batch, times this weight; it costs a second forward pass per step.
Photometric jitter of the mixed view: a random gain and offset per block and band (1 +- and +- this value, in normalised units) and pixel noise on the student&apos;s mixed view (0: none), a stronger view than the teacher&apos;s.
Re-estimate BatchNorm statistics on the target: one pass over the target blocks before adapting, so the source&apos;s normalisation fits the target&apos;s reflectances.
Hold the pseudo-labels&apos; class distribution (alignment) and Rectify pseudo-labels with the class prototypes: the distribution alignment (off by default) and prototype rectification (on) described above.
Class distribution held (alignment): the first teacher&apos;s (its predictions after the BatchNorm re-estimation) or the source model&apos;s own, measured before it: where the re-estimation shifts the class shares (a minority class fading), the source&apos;s keeps them.
Mix easy classes into the hard blocks (ClassMix): untick to have the student learn the hard blocks&apos; own pseudo-labels, weighted alike, with nothing pasted (an ablation of ClassMix).
Embedding pixel stride (1: every pixel): prototypes and the contrastive loss use every n-th pixel of the rows and columns: 2 uses a quarter of the pixels, faster and lighter on memory.
Blocks of the first passes (0: all): how many target blocks the BatchNorm pass and the first prototypes read (0: every block); fewer starts faster on a large store.
Align the target&apos;s statistics to the model&apos;s: maps each target band onto the source statistics recorded in the model (mean and standard deviation, or histogram matching) before anything else.
Weight decay: AdamW&apos;s weight decay. Warm-up (fraction of the steps): the learning rate rises linearly from 0 over this share of the steps (at most 500), then decays.
Mixed precision on CUDA: float16 arithmetic on a GPU (faster, less memory; no effect on a CPU).
Checkpoint every N steps (0: with the resume state) and Save the resume state every N seconds (0: every step): how often the model and the resume state are written; a crash loses at most that much.
CPU threads (0: all): threads torch uses on a CPU (0: torch&apos;s default, all cores).
SyncBatchNorm over all processes (torchrun): under torchrun, BatchNorm statistics over the global batch of all processes (no effect in one process).

Output: the adapted model (.safetensors, the teacher; its provenance names the source model&apos;s SHA-256, the target store and every hyper-parameter). Beside it: name.adapt.json (configuration, loss per step, prototype norms and pseudo-label class shares: a class whose share keeps falling warns of collapse) and name.resume.safetensors. Resume: give that file to continue. Cancel keeps the last complete checkpoint. Map with the adapted model using Map crops (inference) (crops:infer).</source>
        <translation>Passt ein Quellmodell ohne jegliche Quelldaten an das Zielgebiet an: Semantic Prototypical Contrastive Learning auf einem Ziel-Blockspeicher, der in leichte und schwere Blöcke aufgeteilt ist (zuerst Aufteilung leicht / schwer ausführen).

Zuerst werden die BatchNorm-Statistiken des Quellmodells auf den Zielblöcken neu geschätzt. Ein Lehrer (ein exponentieller gleitender Mittelwert des Schülers, Momentum EMA) labelt dann in jedem Schritt einen leichten und einen schweren Batch. Der schwere Batch folgt einem Lehrplan von leicht zu schwer (Zeitplan der schweren Blöcke linear): Er beginnt mit Anteil schwerer Blöcke zu Beginn (linear) an schweren Blöcken, der Rest leichte, und endet mit nur schweren Blöcken (constant: nur schwere Blöcke ab dem ersten Schritt). Die Klassenprototypen sind die laufenden Mittelwerte der Einbettungen des Lehrers von leichten Pixeln, bei denen er sich sicher ist (Konfidenz &gt;= Konfidenzschwelle), begonnen mit einem Durchlauf über die leichten Blöcke. Der Schüler lernt ein ClassMix aus Klassen leichter Blöcke, die auf schwere Blöcke geklebt werden, jedes Pixel gewichtet mit der Konfidenz des Lehrers in ihm (oder jeder Block danach, bei wie vielen seiner Pixel sich der Lehrer sicher ist), plus Kontrastgewicht x einen prototypbasierten Kontrastverlust, der jedes schwere Pixel des gemischten Blocks erreicht, auch die unsicheren: Sein Ziel ist der Softmax der Ähnlichkeiten der Lehrer-Einbettung zu den Prototypen (die Temperatur skaliert sie), gewichtet mit dem Abstand des Lehrers zwischen erster und zweiter Klasse, sodass der Zug an der Entscheidungsgrenze auf null abklingt. Die Wahrscheinlichkeiten des Lehrers werden mit der Ähnlichkeit jedes Pixels zu den Klassenprototypen gewichtet (Prototyp-Rektifizierung), sodass ein Pixel, dessen Einbettung beim Prototyp einer anderen Klasse liegt, an Konfidenz verliert oder sein Label wechselt; mit Klassenverteilung der Pseudo-Labels halten werden sie zudem so skaliert, dass die Pseudo-Labels die zu Beginn im Zielgebiet vorhergesagte Klassenverteilung behalten (Verteilungsangleichung).
Die Standardwerte sind die Teile, die in einer Ablation auf Seeds, auf denen sie nicht abgestimmt wurden, einen Gewinn brachten (bench/results/adaptation_notes.md); Verteilungsangleichung und gleitende Prototypen brachten keinen und sind Optionen.
Prototypen probabilistic (PPPC): Die Einbettung jedes Pixels und jeder Prototyp ist eine Gaußverteilung, die Varianz des Pixels aus einem Varianzkopf, der neben dem Projektionskopf trainiert wird, die des Prototyps aus seinen leichten Pixeln; der kontrastive Verlust und die Rektifizierung vergleichen sie über ihren Mutual Likelihood Score, sodass ein mehrdeutiges Pixel (hohe Varianz) weniger zieht und in seinem Prototyp weniger Gewicht hat. Der Varianzkopf wird nur während der Anpassung verwendet.

Erweiterte Parameter:
Kontrastziele: welche schwierigen Pixel der Kontrastverlust erreicht. Sicher: die, die der Lehrer mit einer Konfidenz &gt;= Konfidenzschwelle labelt, zum Prototyp ihres Labels gezogen. Weich: jedes schwierige Pixel des gemischten Blocks, sein Ziel der Softmax der Ähnlichkeiten der Lehrer-Einbettung zu den Prototypen, gewichtet mit dem Abstand des Lehrers (die Wahrscheinlichkeit seiner ersten Klasse minus die der zweiten), sodass der Zug an der Entscheidungsgrenze auf null abklingt; es kostet den Projektionskopf im Lehrer-Durchlauf des schwierigen Batches.
Prototyp-Momentum (0: laufender Mittelwert): 0 hält jeden Prototyp als Mittelwert aller gesehenen sicheren leichten Pixel; über 0 bewegt nach dem ersten Durchlauf jeder Schritt die Prototypen der Klassen seines leichten Batches zu dessen Mittelwert hin (Prototyp = Momentum x Prototyp + (1 - Momentum) x Batch-Mittelwert, dann auf Länge eins), sodass sie den sich anpassenden Merkmalen folgen. Nur Punkt-Prototypen.
Anteil schwerer Blöcke zu Beginn (linear): bei linearem Zeitplan der schweren Blöcke der Anteil schwerer Blöcke im schweren Batch im ersten Schritt; er wächst bis zum letzten auf alle schweren Blöcke.
ClassMix-Gewichtung: wie viel ein gemischtes Pixel zählt: seine eigene Konfidenz oder der Anteil der Pixel seines Blocks, bei denen sich der Lehrer sicher ist (ein Gewicht je Block, wie bei DACS).
Pseudo-Label-Gewicht der leichten Blöcke (0: aus): addiert die Kreuzentropie der Pseudo-Labels des Lehrers auf dem leichten Batch, mal diesem Gewicht; das kostet einen zweiten Vorwärtsdurchlauf je Schritt.
Photometrisches Jittering der gemischten Ansicht: ein zufälliger Faktor und Versatz je Block und Band (1 +- und +- dieser Wert, in normierten Einheiten) und Pixelrauschen auf der gemischten Ansicht des Schülers (0: keines), eine stärkere Ansicht als die des Lehrers.
BatchNorm-Statistiken auf dem Zielgebiet neu schätzen: ein Durchlauf über die Zielblöcke vor der Anpassung, damit die Normalisierung der Quelle zu den Reflektanzen des Zielgebiets passt.
Klassenverteilung der Pseudo-Labels halten (Angleichung) und Pseudo-Labels mit den Klassenprototypen rektifizieren: die oben beschriebene Verteilungsangleichung (standardmäßig aus) und Prototyp-Rektifizierung (an).
Gehaltene Klassenverteilung (Angleichung): die des ersten Lehrers (seine Vorhersagen nach der BatchNorm-Neuschätzung) oder die des Quellmodells selbst, vor ihr gemessen: wo die Neuschätzung die Klassenanteile verschiebt (eine Minderheitsklasse schwindet), behält die des Quellmodells sie bei.
Klassen leichter Blöcke in die schweren mischen (ClassMix): abwählen, damit der Schüler die eigenen Pseudo-Labels der schweren Blöcke lernt, gleich gewichtet, ohne Einfügen (eine Ablation von ClassMix).
Pixelschrittweite der Einbettungen (1: jedes Pixel): Prototypen und kontrastiver Verlust nutzen jedes n-te Pixel der Zeilen und Spalten: 2 nutzt ein Viertel der Pixel, schneller und sparsamer im Speicher.
Blöcke der ersten Durchläufe (0: alle): wie viele Zielblöcke der BatchNorm-Durchlauf und die ersten Prototypen lesen (0: jeden Block); weniger startet schneller bei einem großen Blockspeicher.
Zielstatistiken an die des Modells angleichen: bildet jedes Zielband vor allem anderen auf die im Modell gespeicherten Quellstatistiken ab (Mittelwert und Standardabweichung oder Histogrammangleichung).
Gewichtsabnahme (Weight Decay): die Gewichtsabnahme von AdamW. Aufwärmphase (Anteil der Schritte): die Lernrate steigt über diesen Anteil der Schritte (höchstens 500) linear von 0 an und fällt dann.
Gemischte Genauigkeit auf CUDA: float16-Arithmetik auf einer GPU (schneller, weniger Speicher; ohne Wirkung auf einer CPU).
Checkpoint alle N Schritte (0: mit dem Fortsetzungszustand) und Fortsetzungszustand alle N Sekunden speichern (0: nach jedem Schritt): wie oft das Modell und der Fortsetzungszustand geschrieben werden; ein Absturz verliert höchstens so viel.
CPU-Threads (0: alle): Threads, die torch auf einer CPU nutzt (0: Standard von torch, alle Kerne).
SyncBatchNorm über alle Prozesse (torchrun): unter torchrun BatchNorm-Statistiken über den globalen Batch aller Prozesse (ohne Wirkung in einem Prozess).

Ausgabe: das angepasste Modell (.safetensors, der Lehrer; seine Herkunftsangaben nennen SHA-256 des Quellmodells, den Zielspeicher und jeden Hyperparameter). Daneben: name.adapt.json (Konfiguration, Verlust je Schritt, Prototypnormen und Klassenanteile der Pseudo-Labels: Eine Klasse, deren Anteil stetig sinkt, warnt vor einem Kollaps) und name.resume.safetensors. Fortsetzen: diese Datei übergeben, um weiterzumachen. Abbrechen behält den letzten vollständigen Checkpoint. Kartieren Sie mit dem angepassten Modell über Kulturen kartieren (crops:infer).</translation>
    </message>
</context>
<context>
    <name>AlignStatisticsAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="183"/>
        <source>Align statistics to the model</source>
        <translation>Statistiken an das Modell angleichen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="184"/>
        <source>Aligns a target composite to the source statistics a model recorded when it was trained, without any source data: each band of the composite is mapped onto the model&apos;s statistics of the feature with the same name.

mean_std: each band is shifted and scaled so that its mean and standard deviation become the model&apos;s. histogram: histogram matching; each band&apos;s quantiles become the per-band quantiles the model recorded of its training pixels. Models trained before quantiles were recorded have only mean and standard deviation: use mean_std with them, or train the model again.
The target&apos;s statistics are measured on a regular sample of its valid pixels.

Output: a Float32 GeoTIFF with the composite&apos;s bands and band names (nodata NaN), styled in natural colour. Partition, Adapt, Adapt with SPCL and Map crops can instead align on the fly (their Align the target&apos;s statistics option); give inference the same alignment the model was adapted with.</source>
        <translation>Richtet ein Zielkomposit ohne jegliche Quelldaten auf die Quellstatistiken aus, die ein Modell bei seinem Training aufgezeichnet hat: Jedes Band des Komposits wird auf die Statistiken des Modells für das gleichnamige Merkmal abgebildet.

mean_std: Jedes Band wird so verschoben und skaliert, dass sein Mittelwert und seine Standardabweichung die des Modells werden. histogram: Histogrammangleichung; die Quantile jedes Bandes werden zu den Quantilen je Band, die das Modell von seinen Trainingspixeln aufgezeichnet hat. Modelle, die trainiert wurden, bevor Quantile aufgezeichnet wurden, haben nur Mittelwert und Standardabweichung: mit ihnen mean_std verwenden oder das Modell neu trainieren.
Die Statistiken des Ziels werden an einer regelmäßigen Stichprobe seiner gültigen Pixel gemessen.

Ausgabe: ein Float32-GeoTIFF mit den Bändern und Bandnamen des Komposits (NoData NaN), in natürlichen Farben dargestellt. Aufteilung leicht / schwer, Anpassen (Vergleichsverfahren), Mit SPCL anpassen und Kulturen kartieren (Inferenz) können stattdessen während der Verarbeitung angleichen (ihre Option Zielstatistiken an die des Modells angleichen); der Inferenz dieselbe Angleichung geben, mit der das Modell angepasst wurde.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="185"/>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="186"/>
        <source>Target composite</source>
        <translation>Zielkomposit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="187"/>
        <source>Align the target&apos;s statistics to the model&apos;s</source>
        <translation>Zielstatistiken an die des Modells angleichen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="190"/>
        <source>Aligned composite</source>
        <translation>Angeglichenes Komposit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="191"/>
        <source>Bands aligned</source>
        <translation>Angeglichene Bänder</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="188"/>
        <source>Histogram matching</source>
        <translation>Histogrammangleichung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="189"/>
        <source>Mean and standard deviation</source>
        <translation>Mittelwert und Standardabweichung</translation>
    </message>
</context>
<context>
    <name>BatchAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="389"/>
        <source>Run a batch plan</source>
        <translation>Stapelplan ausführen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="390"/>
        <source>Runs the runs of a plan in order, each with its own outputs and .run.json, and ends with a summary table (run, command, status, seconds, message).

Plan: a JSON file {&quot;on_failure&quot;: &quot;stop&quot;, &quot;runs&quot;: [...]} (on_failure: stop or continue); each run is {&quot;name&quot;: ..., &quot;command&quot;: &quot;adapt-spcl&quot;, &quot;parameters&quot;: {&quot;MODEL&quot;: ..., ...}} or {&quot;config&quot;: &quot;earlier.run.json&quot;, &quot;set&quot;: {&quot;SEED&quot;: 3}} (a recorded run repeated with changes). Relative paths in a plan are relative to the plan&apos;s folder. On failure, stop (the default) skips the remaining runs; continue runs them. The batch fails when any run failed.
Summary: an optional JSON file with the table.</source>
        <translation>Führt die Läufe eines Plans der Reihe nach aus, jeden mit eigenen Ausgaben und eigener .run.json, und endet mit einer Übersichtstabelle (Lauf, Befehl, Status, Sekunden, Meldung).

Plan: eine JSON-Datei {&quot;on_failure&quot;: &quot;stop&quot;, &quot;runs&quot;: [...]} (on_failure: stop oder continue); jeder Lauf ist {&quot;name&quot;: ..., &quot;command&quot;: &quot;adapt-spcl&quot;, &quot;parameters&quot;: {&quot;MODEL&quot;: ..., ...}} oder {&quot;config&quot;: &quot;earlier.run.json&quot;, &quot;set&quot;: {&quot;SEED&quot;: 3}} (ein protokollierter Lauf, mit Änderungen wiederholt). Relative Pfade in einem Plan beziehen sich auf den Ordner des Plans. Bei einem Fehler überspringt stop (die Vorgabe) die übrigen Läufe; continue führt sie aus. Der Stapel schlägt fehl, wenn ein Lauf fehlschlug.
Zusammenfassung: eine optionale JSON-Datei mit der Tabelle.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="391"/>
        <source>Plan (.json)</source>
        <translation>Plan (.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="392"/>
        <source>Summary (JSON)</source>
        <translation>Zusammenfassung (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="393"/>
        <source>JSON files (*.json)</source>
        <translation>JSON-Dateien (*.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="394"/>
        <source>Runs that succeeded</source>
        <translation>Erfolgreiche Läufe</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="395"/>
        <source>Runs that failed</source>
        <translation>Fehlgeschlagene Läufe</translation>
    </message>
</context>
<context>
    <name>BuildBlocksAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="52"/>
        <source>Build blocks</source>
        <translation>Blöcke erstellen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="53"/>
        <source>Cuts a composite (e.g. the NDVI quality mosaic) into square blocks and writes them, normalisation statistics included, to an HDF5 block store for training and adaptation.

Labels (source area): a raster of label codes, or polygons with a Label field (any CRS: reprojected). Class map: codes to classes, e.g. &apos;1200=maize; *=other; 0=ignore&apos; (optional colour: &apos;1200=maize #e6ab02&apos;); empty: the label values are the classes (0 = ignore), named from a classes.csv beside the labels. Without labels (target area) the store holds images only.
Extra bands: more features on the composite&apos;s grid, PATH or PATH@BANDS separated by &apos;;&apos; (e.g. qa.tif@day_of_year).
Block size and stride in pixels (stride 0: the block size, no overlap). A validation fraction of the blocks, in whole spatial groups, is set aside for validation.
Only blocks with a labelled pixel (source) or a valid pixel (target) are written.</source>
        <translation>Zerlegt ein Komposit (z. B. das NDVI-Qualitätsmosaik) in quadratische Blöcke und schreibt sie samt Normalisierungsstatistiken in einen HDF5-Blockspeicher für Training und Anpassung.

Labels (Quellgebiet): ein Raster mit Label-Codes oder Polygone mit einem Labelfeld (beliebiges KBS: wird umprojiziert). Klassenzuordnung: Codes zu Klassen, z. B. '1200=maize; *=other; 0=ignore' (optionale Farbe: '1200=maize #e6ab02'); leer: die Labelwerte sind die Klassen (0 = ignoriert), benannt nach einer classes.csv neben den Labels. Ohne Labels (Zielgebiet) enthält der Speicher nur Bilder.
Zusätzliche Bänder: weitere Merkmale auf dem Gitter des Komposits, PATH oder PATH@BANDS, getrennt durch ';' (z. B. qa.tif@day_of_year).
Blockgröße und Schrittweite in Pixeln (Schrittweite 0: die Blockgröße, keine Überlappung). Ein Validierungsanteil der Blöcke wird in ganzen räumlichen Gruppen für die Validierung zurückgehalten.
Es werden nur Blöcke mit einem gelabelten Pixel (Quelle) bzw. einem gültigen Pixel (Ziel) geschrieben.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="54"/>
        <source>Composite</source>
        <translation>Komposit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="55"/>
        <source>Labels (raster or polygons; empty for a target store)</source>
        <translation>Labels (Raster oder Polygone; leer für einen Zielspeicher)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="56"/>
        <source>Label field (polygons)</source>
        <translation>Labelfeld (Polygone)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="57"/>
        <source>Class map (codes to classes)</source>
        <translation>Klassenzuordnung (Codes zu Klassen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="59"/>
        <source>Block size (pixels)</source>
        <translation>Blockgröße (Pixel)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="60"/>
        <source>Extent</source>
        <translation>Ausdehnung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="61"/>
        <source>Extra bands (PATH or PATH@BANDS; &apos;;&apos; separated)</source>
        <translation>Zusätzliche Bänder (PATH oder PATH@BANDS; durch ';' getrennt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="62"/>
        <source>Stride (pixels; 0: block size)</source>
        <translation>Schrittweite (Pixel; 0: Blockgröße)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="63"/>
        <source>Validation fraction</source>
        <translation>Validierungsanteil</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="64"/>
        <source>Validation group size (blocks; 0: automatic)</source>
        <translation>Größe der Validierungsgruppen (Blöcke; 0: automatisch)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="65"/>
        <source>Seed of the validation split</source>
        <translation>Startwert der Validierungsaufteilung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="66"/>
        <source>Block store</source>
        <translation>Blockspeicher</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="67"/>
        <source>HDF5 files (*.h5)</source>
        <translation>HDF5-Dateien (*.h5)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="68"/>
        <source>Blocks written</source>
        <translation>Geschriebene Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="69"/>
        <source>Training blocks</source>
        <translation>Trainingsblöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="70"/>
        <source>Validation blocks</source>
        <translation>Validierungsblöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="58"/>
        <source>CRS of labels that have none</source>
        <translation>KBS von Labels, die keines haben</translation>
    </message>
</context>
<context>
    <name>BuildSeriesAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="71"/>
        <source>Build time-series blocks</source>
        <translation>Zeitreihen-Blöcke erstellen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="72"/>
        <source>Builds a block store whose images are a time series rather than one composite: a regular temporal grid from the Start date to the End date in steps of Step days. Each step is the NDVI quality mosaic of the scenes acquired in it (per pixel, all bands of the clear date with the highest NDVI); where a step has no clear observation, its values are interpolated linearly in time from the steps before and after (the store keeps a mask of the observed steps). A temporal model (train-source, architecture U-TAE) learns when each crop is green.

Scenes, cloud mask, red / NIR band, scale and offset: as for the NDVI quality mosaic. Start / end date: empty for the first / last scene&apos;s date; source and target series should span the same part of their seasons with the same Step days, so they have as many steps.
Labels, class map, block size, stride and the validation split: as for Build blocks.</source>
        <translation>Erstellt einen Blockspeicher, dessen Bilder eine Zeitreihe statt eines einzelnen Komposits sind: ein regelmäßiges Zeitraster vom Startdatum bis zum Enddatum in Schritten von Schritt Tagen. Jeder Schritt ist das NDVI-Qualitätsmosaik der darin aufgenommenen Szenen (je Pixel alle Bänder des wolkenfreien Datums mit dem höchsten NDVI); hat ein Schritt keine wolkenfreie Beobachtung, werden seine Werte linear in der Zeit aus den Schritten davor und danach interpoliert (der Speicher behält eine Maske der beobachteten Schritte). Ein zeitliches Modell (train-source, Architektur U-TAE) lernt, wann jede Kultur grün ist.

Szenen, Wolkenmaske, Rot-/NIR-Band, Skalierung und Offset: wie beim NDVI-Qualitätsmosaik. Start-/Enddatum: leer für das Datum der ersten / letzten Szene; Quell- und Zielreihe sollten mit denselben Schritt-Tagen denselben Teil ihrer Saison abdecken, damit sie gleich viele Schritte haben.
Labels, Klassenzuordnung, Blockgröße, Schrittweite und Validierungsaufteilung: wie bei Blöcke erstellen.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="73"/>
        <source>Start date (YYYY-MM-DD)</source>
        <translation>Startdatum (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="74"/>
        <source>End date (YYYY-MM-DD)</source>
        <translation>Enddatum (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="75"/>
        <source>Step (days)</source>
        <translation>Schritt (Tage)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="76"/>
        <source>Blocks written</source>
        <translation>Geschriebene Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="77"/>
        <source>Training blocks</source>
        <translation>Trainingsblöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="78"/>
        <source>Validation blocks</source>
        <translation>Validierungsblöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="79"/>
        <source>Time steps</source>
        <translation>Zeitschritte</translation>
    </message>
</context>
<context>
    <name>ChoiceWidgetWrapper</name>
    <message>
        <location filename="../crops_qgis/algorithms/widgets.py" line="60"/>
        <source>[not set]</source>
        <translation>[nicht gesetzt]</translation>
    </message>
</context>
<context>
    <name>CropsAlgorithm</name>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="49"/>
        <source>1. Data</source>
        <translation>1. Daten</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="50"/>
        <source>2. Pre-processing</source>
        <translation>2. Vorverarbeitung</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="51"/>
        <source>3. Source model</source>
        <translation>3. Quellmodell</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="52"/>
        <source>4. Adaptation</source>
        <translation>4. Anpassung</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="53"/>
        <source>5. Mapping and evaluation</source>
        <translation>5. Kartierung und Bewertung</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="54"/>
        <source>Tools</source>
        <translation>Werkzeuge</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="109"/>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="113"/>
        <source>Random seed</source>
        <translation>Zufallsstartwert</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="173"/>
        <source>Weight decay</source>
        <translation>Gewichtsabnahme (Weight Decay)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="122"/>
        <source>Warm-up (fraction of the steps)</source>
        <translation>Aufwärmphase (Anteil der Schritte)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="123"/>
        <source>Mixed precision on CUDA</source>
        <translation>Gemischte Genauigkeit auf CUDA</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="126"/>
        <source>CPU threads (0: all)</source>
        <translation>CPU-Threads (0: alle)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="237"/>
        <source>Resume from (resume state or adapted model)</source>
        <translation>Fortsetzen von (Fortsetzungszustand oder angepasstes Modell)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="267"/>
        <source>Adapted model</source>
        <translation>Angepasstes Modell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="268"/>
        <source>Model (*.safetensors)</source>
        <translation>Modell (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="269"/>
        <source>Adaptation log (JSON)</source>
        <translation>Anpassungsprotokoll (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="274"/>
        <source>Resume state</source>
        <translation>Fortsetzungszustand</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="275"/>
        <source>Steps done</source>
        <translation>Ausgeführte Schritte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="276"/>
        <source>Final loss</source>
        <translation>Endgültiger Verlust</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="124"/>
        <source>Checkpoint every N steps (0: with the resume state)</source>
        <translation>Checkpoint alle N Schritte (0: mit dem Fortsetzungszustand)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="127"/>
        <source>SyncBatchNorm over all processes (torchrun)</source>
        <translation>SyncBatchNorm über alle Prozesse (torchrun)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="125"/>
        <source>Save the resume state every N seconds (0: every step)</source>
        <translation>Fortsetzungszustand alle N Sekunden speichern (0: nach jedem Schritt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="210"/>
        <source>Align the target&apos;s statistics to the model&apos;s</source>
        <translation>Zielstatistiken an die des Modells angleichen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="270"/>
        <source>Adaptation curves (PNG)</source>
        <translation>Anpassungskurven (PNG)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="110"/>
        <source>Automatic (GPU if available)</source>
        <translation>Automatisch (GPU, falls vorhanden)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="111"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="112"/>
        <source>CUDA GPU</source>
        <translation>CUDA-GPU</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="211"/>
        <source>None</source>
        <translation>Keine</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="212"/>
        <source>Mean and standard deviation</source>
        <translation>Mittelwert und Standardabweichung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="213"/>
        <source>Histogram matching</source>
        <translation>Histogrammangleichung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="271"/>
        <source>Trust report: what the adaptation changed (HTML)</source>
        <translation>Vertrauensbericht: was die Anpassung geändert hat (HTML)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="272"/>
        <source>Agreement of the source and adapted maps (unchanged / changed)</source>
        <translation>Übereinstimmung der Quell- und angepassten Karte (unverändert / geändert)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="273"/>
        <source>Share of pixels that changed class</source>
        <translation>Anteil der Pixel mit geänderter Klasse</translation>
    </message>
</context>
<context>
    <name>CropsDock</name>
    <message>
        <location filename="../crops_qgis/dock.py" line="51"/>
        <source>CROPS crop mapping</source>
        <translation>CROPS Kulturartenkartierung</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="62"/>
        <source>CROPS model (*.safetensors)</source>
        <translation>CROPS-Modell (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="63"/>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="66"/>
        <source>Composite</source>
        <translation>Komposit</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="70"/>
        <source>Output folder</source>
        <translation>Ausgabeordner</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="73"/>
        <source>Draw area</source>
        <translation>Gebiet zeichnen</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="124"/>
        <source>Whole composite</source>
        <translation>Gesamtes Komposit</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="85"/>
        <source>Run</source>
        <translation>Ausführen</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="87"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="139"/>
        <source>Choose the composite raster to map.</source>
        <translation>Wählen Sie das zu kartierende Komposit-Raster.</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="141"/>
        <source>Choose a CROPS model file (.safetensors).</source>
        <translation>Wählen Sie eine CROPS-Modelldatei (.safetensors).</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="149"/>
        <source>Mapping crop classes</source>
        <translation>Kartierung der Kulturklassen</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="150"/>
        <source>Crop classes</source>
        <translation>Kulturklassen</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="150"/>
        <source>Confidence</source>
        <translation>Konfidenz</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="164"/>
        <source>Started: {name}</source>
        <translation>Gestartet: {name}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="181"/>
        <source>Failed: {error}</source>
        <translation>Fehlgeschlagen: {error}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="185"/>
        <source>Done: {n} layers added to &apos;{group}&apos;</source>
        <translation>Fertig: {n} Layer zu '{group}' hinzugefügt</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="114"/>
        <source>Drawn area: {w} x {h} ({ha:,.1f} ha)</source>
        <translation>Gezeichnetes Gebiet: {w} x {h} ({ha:,.1f} ha)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="177"/>
        <source>Cancelled: {name}; nothing was added.</source>
        <translation>Abgebrochen: {name}; nichts wurde hinzugefügt.</translation>
    </message>
</context>
<context>
    <name>CropsPlugin</name>
    <message>
        <location filename="../crops_qgis/plugin.py" line="35"/>
        <source>CROPS crop mapping</source>
        <translation>CROPS Kulturartenkartierung</translation>
    </message>
    <message>
        <location filename="../crops_qgis/plugin.py" line="40"/>
        <source>CROPS engine environment…</source>
        <translation>CROPS-Engine-Umgebung…</translation>
    </message>
</context>
<context>
    <name>CropsProvider</name>
    <message>
        <location filename="../crops_qgis/provider.py" line="33"/>
        <source>CROPS crop-type mapping (source-free domain adaptation)</source>
        <translation>CROPS Kulturartenkartierung (quellfreie Domänenanpassung)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/provider.py" line="45"/>
        <source>Engine Python (interpreter with torch, timm, h5py, safetensors)</source>
        <translation>Engine-Python (Interpreter mit torch, timm, h5py, safetensors)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/provider.py" line="56"/>
        <source>Processes per run (more than 1: through torchrun, one process per GPU)</source>
        <translation>Prozesse pro Lauf (mehr als 1: über torchrun, ein Prozess pro GPU)</translation>
    </message>
</context>
<context>
    <name>DiagnosticsAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="5"/>
        <source>Diagnostics</source>
        <translation>Diagnose</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="6"/>
        <source>Reports the engine Python in use and the versions of QGIS, GDAL, Python, torch, timm, h5py and numpy, whether CUDA is available and which devices were found.

Report: an HTML (.html) or text (.txt) file.

Run it first when setting CROPS up, and attach the report to bug reports.</source>
        <translation>Meldet das verwendete Engine-Python und die Versionen von QGIS, GDAL, Python, torch, timm, h5py und numpy, ob CUDA verfügbar ist und welche Geräte gefunden wurden.

Bericht: eine HTML-Datei (.html) oder Textdatei (.txt).

Führen Sie dieses Werkzeug beim Einrichten von CROPS als Erstes aus und hängen Sie den Bericht an Fehlermeldungen an.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="7"/>
        <source>Report</source>
        <translation>Bericht</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="8"/>
        <source>HTML files (*.html);;Text files (*.txt)</source>
        <translation>HTML-Dateien (*.html);;Textdateien (*.txt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="9"/>
        <source>CUDA available</source>
        <translation>CUDA verfügbar</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="10"/>
        <source>Devices</source>
        <translation>Geräte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="11"/>
        <source>Engine Python</source>
        <translation>Engine-Python</translation>
    </message>
</context>
<context>
    <name>EnginePython</name>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="28"/>
        <source>environment variable {name}</source>
        <translation>Umgebungsvariable {name}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="29"/>
        <source>Processing setting &apos;CROPS &gt; Engine Python&apos;</source>
        <translation>Processing-Einstellung 'CROPS &gt; Engine Python'</translation>
    </message>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="30"/>
        <source>the plugin&apos;s .venv</source>
        <translation>die .venv des Plugins</translation>
    </message>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="31"/>
        <source>the managed environment</source>
        <translation>die verwaltete Umgebung</translation>
    </message>
</context>
<context>
    <name>EnvironmentDialog</name>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="39"/>
        <source>CROPS engine environment</source>
        <translation>CROPS-Engine-Umgebung</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="44"/>
        <source>Engine Python</source>
        <translation>Engine-Python</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="46"/>
        <source>Search order</source>
        <translation>Suchreihenfolge</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="52"/>
        <source>NVIDIA driver {v}</source>
        <translation>NVIDIA-Treiber {v}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="52"/>
        <source>no NVIDIA GPU found</source>
        <translation>keine NVIDIA-GPU gefunden</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="53"/>
        <source>torch build ({detected})</source>
        <translation>torch-Build ({detected})</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="56"/>
        <source>Create managed environment</source>
        <translation>Verwaltete Umgebung erstellen</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="58"/>
        <source>Run diagnostics</source>
        <translation>Diagnose ausführen</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="91"/>
        <source>Creating {venv} (torch build {b})</source>
        <translation>Erstelle {venv} (torch-Build {b})</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="97"/>
        <source>Failed: {e}</source>
        <translation>Fehlgeschlagen: {e}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="106"/>
        <source>Environment ready: {p}</source>
        <translation>Umgebung bereit: {p}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="111"/>
        <source>CROPS diagnostics</source>
        <translation>CROPS-Diagnose</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="122"/>
        <source>Diagnostics failed: {e}</source>
        <translation>Diagnose fehlgeschlagen: {e}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="125"/>
        <source>Engine {python}: torch {torch}, devices: {devices}</source>
        <translation>Engine {python}: torch {torch}, Geräte: {devices}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="79"/>
        <source>{n}. {source}: {path}</source>
        <translation>{n}. {source}: {path}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="80"/>
        <source>(in use)</source>
        <translation>(in Verwendung)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="82"/>
        <source>None of these has torch: create the managed environment or choose a Python.</source>
        <translation>Keines davon hat torch: verwaltete Umgebung erstellen oder ein Python wählen.</translation>
    </message>
</context>
<context>
    <name>EvaluateAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="351"/>
        <source>Evaluate class map</source>
        <translation>Klassenkarte bewerten</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="353"/>
        <source>Class map</source>
        <translation>Klassenkarte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="354"/>
        <source>Reference labels (raster or polygons)</source>
        <translation>Referenzlabels (Raster oder Polygone)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="355"/>
        <source>Label field (polygons)</source>
        <translation>Labelfeld (Polygone)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="356"/>
        <source>Class map (codes to classes)</source>
        <translation>Klassenzuordnung (Codes zu Klassen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="359"/>
        <source>Model (names the class map&apos;s values)</source>
        <translation>Modell (benennt die Werte der Klassenkarte)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="360"/>
        <source>Report</source>
        <translation>Bericht</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="361"/>
        <source>HTML files (*.html)</source>
        <translation>HTML-Dateien (*.html)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="362"/>
        <source>Metrics (JSON)</source>
        <translation>Metriken (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="363"/>
        <source>JSON files (*.json)</source>
        <translation>JSON-Dateien (*.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="364"/>
        <source>Overall accuracy</source>
        <translation>Gesamtgenauigkeit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="365"/>
        <source>Mean IoU</source>
        <translation>Mittlere IoU</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="366"/>
        <source>Mean F1</source>
        <translation>Mittlerer F1-Wert</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="367"/>
        <source>Kappa</source>
        <translation>Kappa</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="368"/>
        <source>Pixels evaluated</source>
        <translation>Ausgewertete Pixel</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="357"/>
        <source>CRS of a reference that has none</source>
        <translation>KBS einer Referenz, die keines hat</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="352"/>
        <source>Compares a class map (e.g. the output of crops:infer) with reference labels and reports overall accuracy, Cohen&apos;s kappa, and per class IoU, F1, precision and recall, with the confusion matrix.

Reference: a raster of label codes, or polygons with a Label field (any CRS: reprojected), put on the class map&apos;s grid. Class map: codes to classes, e.g. &apos;1200=maize; *=other; 0=ignore&apos;; empty: the model&apos;s training class map when the model is known, else the label values are the classes (names from a classes.csv beside the labels).
The class map&apos;s values are named by Model when given, else by the model recorded in the class map, its category names or its .qml style. Reference classes are matched to the map&apos;s classes by name, then by code; a reference class the map does not know counts as never predicted.
Only pixels where the reference has a class and the class map is not nodata count.
Polygons are scored per field too: each field&apos;s majority class (of its evaluated pixels) against its reference class, with the fields&apos; confusion matrix and every field listed in the JSON.
Reference is a probability sample: tick it when the reference was drawn at random (simple random, or stratified random with the map&apos;s classes as strata), not where labels happened to be. The report then adds the area-adjusted estimates of Olofsson et al. (2014): each class&apos;s area with its 95 % confidence interval, user&apos;s and producer&apos;s accuracy and overall accuracy weighted by the mapped area shares. The sample units are the reference&apos;s pixels, or its fields for polygons.

Outputs: an HTML report (pictures, areas per class) and the same figures as JSON.</source>
        <translation>Vergleicht eine Klassenkarte (z. B. die Ausgabe von crops:infer) mit Referenzlabels und meldet die Gesamtgenauigkeit, Cohens Kappa sowie je Klasse IoU, F1, Präzision und Recall, mit der Konfusionsmatrix.

Referenz: ein Raster mit Label-Codes oder Polygone mit einem Labelfeld (beliebiges KBS: wird umprojiziert), auf das Gitter der Klassenkarte gebracht. Klassenzuordnung: Codes zu Klassen, z. B. '1200=maize; *=other; 0=ignore'; leer: die Klassenzuordnung aus dem Training des Modells, wenn das Modell bekannt ist, sonst sind die Labelwerte die Klassen (Namen aus einer classes.csv neben den Labels).
Die Werte der Klassenkarte werden durch das Modell benannt, falls angegeben, sonst durch das in der Klassenkarte vermerkte Modell, ihre Kategorienamen oder ihren .qml-Stil. Referenzklassen werden den Klassen der Karte zuerst über den Namen, dann über den Code zugeordnet; eine Referenzklasse, die die Karte nicht kennt, zählt als nie vorhergesagt.
Es zählen nur Pixel, an denen die Referenz eine Klasse hat und die Klassenkarte nicht NoData ist.
Polygone werden auch je Feld bewertet: die Mehrheitsklasse jedes Feldes (seiner ausgewerteten Pixel) gegen seine Referenzklasse, mit der Konfusionsmatrix der Felder und jedem Feld im JSON.
Referenz ist eine Wahrscheinlichkeitsstichprobe: ankreuzen, wenn die Referenz zufällig gezogen wurde (einfach zufällig oder geschichtet zufällig mit den Klassen der Karte als Schichten), nicht dort, wo es zufällig Labels gab. Der Bericht fügt dann die flächenbereinigten Schätzungen nach Olofsson et al. (2014) hinzu: die Fläche jeder Klasse mit ihrem 95-%-Konfidenzintervall, Nutzer- und Herstellergenauigkeit sowie die Gesamtgenauigkeit, gewichtet mit den kartierten Flächenanteilen. Die Stichprobeneinheiten sind die Pixel der Referenz, bei Polygonen ihre Felder.

Ausgaben: ein HTML-Bericht (Bilder, Flächen je Klasse) und dieselben Kennzahlen als JSON.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="358"/>
        <source>Reference is a probability sample (area-adjusted estimates)</source>
        <translation>Referenz ist eine Wahrscheinlichkeitsstichprobe (flächenbereinigte Schätzungen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="369"/>
        <source>Overall accuracy of the fields (polygon reference)</source>
        <translation>Gesamtgenauigkeit der Felder (Polygonreferenz)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="370"/>
        <source>Area-adjusted overall accuracy (probability sample)</source>
        <translation>Flächenbereinigte Gesamtgenauigkeit (Wahrscheinlichkeitsstichprobe)</translation>
    </message>
</context>
<context>
    <name>ExportAgrifmAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="90"/>
        <source>Export AgriFM samples</source>
        <translation>AgriFM-Stichproben exportieren</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="91"/>
        <source>Writes every block of a labelled block store (Build blocks, Build time-series blocks, Import AgriFM samples) as an AgriFM sample: one HDF5 file per block with one dataset per source (T, C, H, W) and the class codes (H, W) in `label` (0 where unlabelled, or 255 when 0 is a class&apos;s code: the `ignore_code` attribute says which), and data_lists/train.txt and val.txt from the store&apos;s splits.

A store imported from AgriFM keeps its sources and sample names; another store is one source, named by Source (a composite&apos;s store: one step of all its bands).</source>
        <translation>Schreibt jeden Block eines gelabelten Blockspeichers (Blöcke erstellen, Zeitreihen-Blöcke erstellen, AgriFM-Stichproben importieren) als AgriFM-Stichprobe: eine HDF5-Datei je Block mit einem Datensatz je Quelle (T, C, H, W) und den Klassencodes (H, W) in `label` (0 wo ungelabelt, oder 255, wenn 0 der Code einer Klasse ist: das Attribut `ignore_code` sagt, welcher), sowie data_lists/train.txt und val.txt aus den Aufteilungen des Speichers.

Ein aus AgriFM importierter Speicher behält seine Quellen und Stichprobennamen; ein anderer Speicher ist eine Quelle mit dem Namen aus Quelle (der Speicher eines Komposits: ein Schritt mit allen seinen Bändern).</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="92"/>
        <source>Labelled block store</source>
        <translation>Gelabelter Blockspeicher</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="93"/>
        <source>Source name (stores without sources)</source>
        <translation>Name der Quelle (Speicher ohne Quellen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="94"/>
        <source>Output folder</source>
        <translation>Ausgabeordner</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="95"/>
        <source>Samples written</source>
        <translation>Geschriebene Stichproben</translation>
    </message>
</context>
<context>
    <name>FieldClassesAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="371"/>
        <source>Crop per field</source>
        <translation>Kultur je Feld</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="372"/>
        <source>Gives every field (a parcel polygon, any CRS) the crop the class map shows in it, and writes the fields as a GeoPackage styled by crop with the map&apos;s colours.

Rule: majority (the class with the most pixels whose centre lies in the field) or mean_probability (the class with the highest mean probability; needs Class probabilities from Map crops). Each field gets class_value, class_name, class_share (the winning class&apos;s share of the field&apos;s pixels), confidence (the mean of the Confidence raster, or the winning class&apos;s mean probability), pixels and area_ha (in the map&apos;s CRS, or an equal-area CRS when the map is in degrees), beside its own attributes. Fields with no mapped pixel keep an empty class.
The log lists the hectares per crop, in fields and on the whole map. Model: the checkpoint that made the class map, when the map does not name its classes itself.</source>
        <translation>Gibt jedem Feld (einem Flurstückspolygon, beliebiges KBS) die Kultur, die die Klassenkarte darin zeigt, und schreibt die Felder als GeoPackage, nach Kultur mit den Farben der Karte gestaltet.

Regel: majority (die Klasse mit den meisten Pixeln, deren Mitte im Feld liegt) oder mean_probability (die Klasse mit der höchsten mittleren Wahrscheinlichkeit; braucht die Klassenwahrscheinlichkeiten aus Kulturen kartieren). Jedes Feld erhält class_value, class_name, class_share (der Anteil der siegreichen Klasse an den Pixeln des Feldes), confidence (das Mittel des Konfidenz-Rasters oder die mittlere Wahrscheinlichkeit der siegreichen Klasse), pixels und area_ha (im KBS der Karte, oder in einem flächentreuen KBS, wenn die Karte in Grad vorliegt), neben seinen eigenen Attributen. Felder ohne kartiertes Pixel behalten eine leere Klasse.
Das Protokoll nennt die Hektar je Kultur, in den Feldern und auf der ganzen Karte. Modell: der Checkpoint, der die Klassenkarte erzeugt hat, wenn die Karte ihre Klassen nicht selbst benennt.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="373"/>
        <source>Fields (parcel polygons)</source>
        <translation>Felder (Flurstückspolygone)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="374"/>
        <source>Class map</source>
        <translation>Klassenkarte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="375"/>
        <source>Class of a field</source>
        <translation>Klasse eines Feldes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="378"/>
        <source>Confidence (optional)</source>
        <translation>Konfidenz (optional)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="379"/>
        <source>Class probabilities (optional)</source>
        <translation>Klassenwahrscheinlichkeiten (optional)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="380"/>
        <source>Model (names the class map&apos;s values)</source>
        <translation>Modell (benennt die Werte der Klassenkarte)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="381"/>
        <source>Fields with their crop</source>
        <translation>Felder mit ihrer Kultur</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="382"/>
        <source>Fields</source>
        <translation>Felder</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="383"/>
        <source>Fields without a mapped pixel</source>
        <translation>Felder ohne kartiertes Pixel</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="376"/>
        <source>Majority of its pixels</source>
        <translation>Mehrheit seiner Pixel</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="377"/>
        <source>Highest mean probability</source>
        <translation>Höchste mittlere Wahrscheinlichkeit</translation>
    </message>
</context>
<context>
    <name>ImportAgrifmAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="80"/>
        <source>Import AgriFM samples</source>
        <translation>AgriFM-Stichproben importieren</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="81"/>
        <source>Reads samples in the AgriFM layout: one HDF5 file per sample holding one dataset per source (T, C, H, W), e.g. S2, and the labels (H, W) in `label`; the files data_lists/train.txt, val.txt (and test.txt) name the samples of each split (without them every sample is for training). Each sample becomes one block of a block store that Train source model, Partition and the adaptation commands read like one from Build time-series blocks.

Sources: the datasets to read, e.g. S2, or S2;S1 for two sensors (empty: S2, else every source of the first file). Every source must have the label&apos;s height and width. One source gives the features t01:B02 ... (steps x bands, as Build time-series blocks); several give S2:t01:B02 ... S1:t01:VV, source after source, and the model trained on them needs the same sources. Labels are class codes: the class map maps them to classes as for Build blocks (empty: the classes Export AgriFM samples wrote in the files, else every code is a class and 0 is ignore). AgriFM files record no dates: a source&apos;s `dates` attribute gives them when present, else the steps are nominal, Step days apart from the Start date.</source>
        <translation>Liest Stichproben im AgriFM-Format: eine HDF5-Datei je Stichprobe mit einem Datensatz je Quelle (T, C, H, W), z. B. S2, und den Labels (H, W) in `label`; die Dateien data_lists/train.txt, val.txt (und test.txt) nennen die Stichproben jeder Aufteilung (ohne sie dient jede Stichprobe dem Training). Jede Stichprobe wird ein Block eines Blockspeichers, den Quellmodell trainieren, Partitionieren und die Anpassungsbefehle lesen wie einen aus Zeitreihen-Blöcke erstellen.

Quellen: die zu lesenden Datensätze, z. B. S2, oder S2;S1 für zwei Sensoren (leer: S2, sonst jede Quelle der ersten Datei). Jede Quelle muss die Höhe und Breite des Labels haben. Eine Quelle ergibt die Merkmale t01:B02 ... (Schritte x Bänder, wie Zeitreihen-Blöcke erstellen); mehrere ergeben S2:t01:B02 ... S1:t01:VV, Quelle nach Quelle, und das darauf trainierte Modell braucht dieselben Quellen. Labels sind Klassencodes: die Klassenzuordnung ordnet sie Klassen zu wie bei Blöcke erstellen (leer: die Klassen, die AgriFM-Stichproben exportieren in die Dateien geschrieben hat, sonst ist jeder Code eine Klasse und 0 wird ignoriert). AgriFM-Dateien enthalten keine Daten: das Attribut `dates` einer Quelle gibt sie an, wo vorhanden, sonst sind die Schritte nominell, Schritt Tage voneinander ab dem Startdatum.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="82"/>
        <source>Folder of AgriFM samples</source>
        <translation>Ordner mit AgriFM-Stichproben</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="83"/>
        <source>Sources</source>
        <translation>Quellen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="84"/>
        <source>Class map (codes to classes)</source>
        <translation>Klassenzuordnung (Codes zu Klassen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="85"/>
        <source>Step (days, when the files have no dates)</source>
        <translation>Schritt (Tage, wenn die Dateien keine Daten haben)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="86"/>
        <source>Start date (YYYY-MM-DD, when the files have no dates)</source>
        <translation>Startdatum (YYYY-MM-DD, wenn die Dateien keine Daten haben)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="87"/>
        <source>Blocks written</source>
        <translation>Geschriebene Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="88"/>
        <source>Training blocks</source>
        <translation>Trainingsblöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="89"/>
        <source>Validation blocks</source>
        <translation>Validierungsblöcke</translation>
    </message>
</context>
<context>
    <name>ImportWeightsAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="139"/>
        <source>Import encoder weights (AgriFM)</source>
        <translation>Encoder-Gewichte importieren (AgriFM)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="140"/>
        <source>Converts encoder weights you hold locally (e.g. AgriFM&apos;s released .pth checkpoint) once into a .safetensors encoder for the agrifm architecture; give it to Train source model as Pretrained encoder weights with Architecture agrifm. Nothing is downloaded.

Reading: the file is read with torch&apos;s weights-only loader (tensors and plain containers only); a file that needs full unpickling is refused: load it yourself where you trust it and re-save its state_dict. Training containers (state_dict, model) and prefixes (module., backbone., encoders.S2. ...) are unwrapped: each tensor of the agrifm encoder takes the one tensor whose name ends with its name, shape-checked. Prefix picks one encoder where a file holds several.
Encoder arguments (embed_dim, depths, num_heads, patch_size, window_size, bands) are read off the file; Architecture arguments overrides them.

Output: the .safetensors encoder (its header records the arguments it fits) and name.import.json beside it: every tensor mapped (encoder name: file name), the encoder tensors missing (left random in training) and the file&apos;s tensors unused.</source>
        <translation>Wandelt Encoder-Gewichte, die Sie lokal haben (z. B. den veröffentlichten .pth-Checkpoint von AgriFM), einmal in einen .safetensors-Encoder für die Architektur agrifm um; geben Sie ihn Quellmodell trainieren als vortrainierte Encoder-Gewichte mit der Architektur agrifm. Nichts wird heruntergeladen.

Lesen: die Datei wird mit dem Nur-Gewichte-Lader von torch gelesen (nur Tensoren und einfache Container); eine Datei, die vollständiges Unpickling braucht, wird abgelehnt: laden Sie sie selbst dort, wo Sie ihr vertrauen, und speichern Sie ihr state_dict neu. Trainings-Container (state_dict, model) und Präfixe (module., backbone., encoders.S2. ...) werden entpackt: jeder Tensor des agrifm-Encoders nimmt den einen Tensor, dessen Name mit seinem Namen endet, mit geprüfter Form. Präfix wählt einen Encoder, wo eine Datei mehrere enthält.
Encoder-Argumente (embed_dim, depths, num_heads, patch_size, window_size, bands) werden aus der Datei gelesen; Architektur-Argumente überschreibt sie.

Ausgabe: der .safetensors-Encoder (sein Header nennt die Argumente, zu denen er passt) und daneben name.import.json: jeder zugeordnete Tensor (Encoder-Name: Datei-Name), die fehlenden Encoder-Tensoren (im Training zufällig belassen) und die ungenutzten Tensoren der Datei.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="141"/>
        <source>Weights file (.pth / .safetensors)</source>
        <translation>Gewichtsdatei (.pth / .safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="142"/>
        <source>Prefix (empty: any)</source>
        <translation>Präfix (leer: beliebig)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="143"/>
        <source>Architecture arguments (JSON; empty: from the file)</source>
        <translation>Architektur-Argumente (JSON; leer: aus der Datei)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="144"/>
        <source>Encoder weights</source>
        <translation>Encoder-Gewichte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="145"/>
        <source>Encoder (*.safetensors)</source>
        <translation>Encoder (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="146"/>
        <source>Tensors mapped</source>
        <translation>Zugeordnete Tensoren</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="147"/>
        <source>Encoder tensors missing</source>
        <translation>Fehlende Encoder-Tensoren</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="148"/>
        <source>File tensors unused</source>
        <translation>Ungenutzte Tensoren der Datei</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="149"/>
        <source>Mapping report (JSON)</source>
        <translation>Zuordnungsbericht (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="150"/>
        <source>Encoder arguments</source>
        <translation>Encoder-Argumente</translation>
    </message>
</context>
<context>
    <name>InferAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="323"/>
        <source>Map crops (inference)</source>
        <translation>Kulturen kartieren (Inferenz)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="324"/>
        <source>Runs a model (from Train source model or an adaptation) over a composite and writes the class map, coloured and labelled with the model&apos;s classes.

Composite: a raster with exactly the features the model was trained on (same bands, same order; Extra bands as used for training, PATH or PATH@BANDS separated by &apos;;&apos;). A clear error lists missing or extra features.
Extent and/or Area of interest (polygons, any CRS) limit the map; pixels outside the polygons and pixels with nodata in any feature are nodata.
The raster is processed in overlapping tiles blended with a smooth window, so no seams show, and streamed to disk: memory does not grow with the raster&apos;s height. Tile size: 0 = the model&apos;s block size rounded up to a multiple of the model&apos;s stride. Overlap in pixels: -1 = a quarter of the tile. Batch size: 0 = 4 on CPU, sized to the free memory on a GPU (halved automatically if it runs out). Device: auto uses a CUDA GPU when the engine&apos;s torch has one; mixed precision on CUDA.

Outputs: class map (Byte, 255 = nodata) and optionally the confidence (the winning class&apos;s probability), the normalised entropy (0 certain .. 1 undecided) and the probabilities (one band per class), Float32 with -1 = nodata. All are tiled, compressed GeoTIFFs with overviews and a .qml style.</source>
        <translation>Wendet ein Modell (aus Quellmodell trainieren oder einer Anpassung) auf ein Komposit an und schreibt die Klassenkarte, eingefärbt und beschriftet mit den Klassen des Modells.

Komposit: ein Raster mit genau den Merkmalen, auf denen das Modell trainiert wurde (dieselben Bänder, dieselbe Reihenfolge; Zusätzliche Bänder wie im Training, PATH oder PATH@BANDS, getrennt durch ';'). Eine klare Fehlermeldung nennt fehlende oder überzählige Merkmale.
Ausdehnung und/oder Untersuchungsgebiet (Polygone, beliebiges KBS) begrenzen die Karte; Pixel außerhalb der Polygone und Pixel mit NoData in einem beliebigen Merkmal sind NoData.
Das Raster wird in überlappenden Kacheln verarbeitet, die mit einem glatten Fenster überblendet werden, sodass keine Nähte sichtbar sind, und auf die Festplatte gestreamt: Der Speicherbedarf wächst nicht mit der Höhe des Rasters. Kachelgröße: 0 = die Blockgröße des Modells, aufgerundet auf ein Vielfaches der Schrittweite (Stride) des Modells. Überlappung in Pixeln: -1 = ein Viertel der Kachel. Batchgröße: 0 = 4 auf der CPU, auf einer GPU an den freien Speicher angepasst (wird automatisch halbiert, wenn er nicht reicht). Gerät: auto nutzt eine CUDA-GPU, wenn das torch der Engine eine unterstützt; gemischte Genauigkeit auf CUDA.

Ausgaben: Klassenkarte (Byte, 255 = NoData) und optional die Konfidenz (die Wahrscheinlichkeit der siegreichen Klasse), die normalisierte Entropie (0 sicher .. 1 unentschieden) und die Wahrscheinlichkeiten (ein Band je Klasse), Float32 mit -1 = NoData. Alle sind gekachelte, komprimierte GeoTIFFs mit Pyramiden und einem .qml-Stil.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="325"/>
        <source>Model (.safetensors)</source>
        <translation>Modell (.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="326"/>
        <source>Composite</source>
        <translation>Komposit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="327"/>
        <source>Extent</source>
        <translation>Ausdehnung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="328"/>
        <source>Area of interest (polygons)</source>
        <translation>Untersuchungsgebiet (Polygone)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="329"/>
        <source>Extra bands (PATH or PATH@BANDS; &apos;;&apos; separated)</source>
        <translation>Zusätzliche Bänder (PATH oder PATH@BANDS; durch ';' getrennt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="330"/>
        <source>Tile size (pixels; 0: automatic)</source>
        <translation>Kachelgröße (Pixel; 0: automatisch)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="331"/>
        <source>Overlap (pixels; -1: a quarter of the tile)</source>
        <translation>Überlappung (Pixel; -1: ein Viertel der Kachel)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="332"/>
        <source>Batch size (tiles; 0: automatic)</source>
        <translation>Batchgröße (Kacheln; 0: automatisch)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="333"/>
        <source>Class map</source>
        <translation>Klassenkarte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="334"/>
        <source>Confidence</source>
        <translation>Konfidenz</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="335"/>
        <source>Entropy</source>
        <translation>Entropie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="336"/>
        <source>Class probabilities</source>
        <translation>Klassenwahrscheinlichkeiten</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="337"/>
        <source>Mapped pixels</source>
        <translation>Kartierte Pixel</translation>
    </message>
</context>
<context>
    <name>InferSeriesAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="338"/>
        <source>Map crops from a time series (inference)</source>
        <translation>Kulturen aus einer Zeitreihe kartieren (Inferenz)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="339"/>
        <source>Runs a model trained on a time series (Build time-series blocks, then Train source model, e.g. with the U-TAE architecture, or an adaptation of it) over the scenes and writes the class map.

Scenes, cloud mask, bands, Start / End date and Step days: as for Build time-series blocks. The series must have as many steps and the same bands as the model&apos;s (a clear error says otherwise): for a map in season, an earlier End date with a model trained on as many steps.
Each overlapping tile is composited from the scenes step by step (the max-NDVI of each step, gaps interpolated in time) and blended with a smooth window as Map crops does, so memory does not grow with the raster&apos;s height or the number of scenes. Tile size, overlap, batch size, device: as for Map crops.

Outputs: class map (Byte, 255 = nodata) and optionally the confidence, the normalised entropy and the probabilities, as Map crops writes them.</source>
        <translation>Wendet ein auf einer Zeitreihe trainiertes Modell (Zeitreihen-Blöcke erstellen, dann Quellmodell trainieren, z. B. mit der Architektur U-TAE, oder eine Anpassung davon) auf die Szenen an und schreibt die Klassenkarte.

Szenen, Wolkenmaske, Bänder, Start-/Enddatum und Schritt-Tage: wie bei Zeitreihen-Blöcke erstellen. Die Reihe muss so viele Schritte und dieselben Bänder wie die des Modells haben (sonst nennt ein klarer Fehler den Unterschied): für eine Karte während der Saison ein früheres Enddatum mit einem Modell, das auf ebenso vielen Schritten trainiert wurde.
Jede überlappende Kachel wird Schritt für Schritt aus den Szenen zusammengesetzt (das Max-NDVI jedes Schritts, Lücken zeitlich interpoliert) und wie bei Kulturen kartieren mit einem glatten Fenster überblendet, sodass der Speicher weder mit der Höhe des Rasters noch mit der Zahl der Szenen wächst. Kachelgröße, Überlappung, Batchgröße, Gerät: wie bei Kulturen kartieren.

Ausgaben: Klassenkarte (Byte, 255 = nodata) und optional die Konfidenz, die normierte Entropie und die Wahrscheinlichkeiten, wie Kulturen kartieren sie schreibt.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="340"/>
        <source>Model (.safetensors)</source>
        <translation>Modell (.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="341"/>
        <source>Extent</source>
        <translation>Ausdehnung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="342"/>
        <source>Tile size (pixels; 0: automatic)</source>
        <translation>Kachelgröße (Pixel; 0: automatisch)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="343"/>
        <source>Overlap (pixels; -1: a quarter of the tile)</source>
        <translation>Überlappung (Pixel; -1: ein Viertel der Kachel)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="344"/>
        <source>Batch size (tiles; 0: automatic)</source>
        <translation>Batchgröße (Kacheln; 0: automatisch)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="345"/>
        <source>Class map</source>
        <translation>Klassenkarte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="346"/>
        <source>Confidence</source>
        <translation>Konfidenz</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="347"/>
        <source>Entropy</source>
        <translation>Entropie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="348"/>
        <source>Class probabilities</source>
        <translation>Klassenwahrscheinlichkeiten</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="349"/>
        <source>Mapped pixels</source>
        <translation>Kartierte Pixel</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="350"/>
        <source>Time steps</source>
        <translation>Zeitschritte</translation>
    </message>
</context>
<context>
    <name>NdviQmAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="26"/>
        <source>NDVI quality mosaic</source>
        <translation>NDVI-Qualitätsmosaik</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="28"/>
        <source>Scenes</source>
        <translation>Szenen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="29"/>
        <source>Folder of scenes</source>
        <translation>Szenenordner</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="30"/>
        <source>File-name pattern</source>
        <translation>Dateinamensmuster</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="31"/>
        <source>Mask suffix (empty: no mask)</source>
        <translation>Maskensuffix (leer: keine Maske)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="32"/>
        <source>Mask band of the scene (instead of mask files)</source>
        <translation>Maskenband der Szene (statt Maskendateien)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="33"/>
        <source>Invalid mask classes</source>
        <translation>Ungültige Maskenklassen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="36"/>
        <source>Scale (DN to reflectance)</source>
        <translation>Skalierung (DN zu Reflektanz)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="37"/>
        <source>Offset (empty: from BOA_ADD_OFFSET metadata)</source>
        <translation>Offset (leer: aus den BOA_ADD_OFFSET-Metadaten)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="38"/>
        <source>Start date (YYYY-MM-DD)</source>
        <translation>Startdatum (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="39"/>
        <source>End date (YYYY-MM-DD)</source>
        <translation>Enddatum (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="40"/>
        <source>Extent</source>
        <translation>Ausdehnung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="41"/>
        <source>Area of interest (polygons)</source>
        <translation>Untersuchungsgebiet (Polygone)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="42"/>
        <source>Target CRS (default: the first scene&apos;s)</source>
        <translation>Ziel-KBS (Standard: das der ersten Szene)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="43"/>
        <source>Resolution (CRS units)</source>
        <translation>Auflösung (KBS-Einheiten)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="44"/>
        <source>Resampling of scenes on another grid</source>
        <translation>Resampling von Szenen auf einem anderen Gitter</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="51"/>
        <source>QA (max NDVI, day of year, clear observations)</source>
        <translation>QA (max. NDVI, Tag des Jahres, wolkenfreie Beobachtungen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="50"/>
        <source>Threads compositing windows</source>
        <translation>Threads für die Fenster des Mosaiks</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="27"/>
        <source>Per pixel, takes all bands of the clear acquisition with the highest NDVI in the date window (Earth Engine&apos;s qualityMosaic(&apos;NDVI&apos;)), so every field shows at its peak. The first step of domain adaptation: build one composite for the source and one for the target.

Scenes: raster layers or files, and/or a Folder with a file-name Pattern; one multi-band raster per date, dated by its ACQUISITION_DATE metadata or a YYYYMMDD in the file name.
Cloud mask: a companion raster named like the scene plus the Mask suffix (Sen2Cor _SCL by default; empty for no mask), or a Mask band of the scene; pixels of the Invalid classes (default SCL 0,1,3,8,9,10) and nodata in the red or NIR band are not clear.
Red / NIR band: a 1-based number (3 and 7 for the B02 B03 B04 B05 B06 B07 B08 B8A B11 B12 order) or a band name, i.e. the band description (B04, B8A; Sentinel-2 products are named so); an unknown name lists the scene&apos;s bands. Reflectance = DN x Scale + Offset; leave Offset empty to read BOA_ADD_OFFSET metadata (Sentinel-2 baseline 04.00+: -1000 DN, i.e. -0.1).
Ties go to the earliest date; pixels without a clear observation are nodata.
Extent / Area of interest: limit the work and the output (pixels outside the polygons are nodata). Scenes on another grid are warped to the first scene&apos;s grid, or to the Target CRS / Resolution.

Outputs: the composite (input data type and band names, natural-colour style) and an optional QA raster: max NDVI, day of year of the chosen date, number of clear observations.</source>
        <translation>Übernimmt je Pixel alle Bänder der wolkenfreien Aufnahme mit dem höchsten NDVI im Zeitfenster (qualityMosaic('NDVI') von Earth Engine), sodass jedes Feld auf seinem Höhepunkt erscheint. Der erste Schritt der Domänenanpassung: ein Komposit für die Quelle und eines für das Ziel erstellen.

Szenen: Rasterlayer oder -dateien und/oder ein Szenenordner mit einem Dateinamensmuster; ein Multiband-Raster je Datum, datiert über seine ACQUISITION_DATE-Metadaten oder ein YYYYMMDD im Dateinamen.
Wolkenmaske: ein Begleitraster, benannt wie die Szene plus Maskensuffix (standardmäßig Sen2Cor _SCL; leer für keine Maske), oder ein Maskenband der Szene; Pixel der ungültigen Maskenklassen (Standard SCL 0,1,3,8,9,10) und NoData im Rot- oder NIR-Band gelten nicht als wolkenfrei.
Rot- / NIR-Band: eine 1-basierte Nummer (3 und 7 für die Reihenfolge B02 B03 B04 B05 B06 B07 B08 B8A B11 B12) oder ein Bandname, d. h. die Bandbeschreibung (B04, B8A; Sentinel-2-Produkte sind so benannt); ein unbekannter Name listet die Bänder der Szene auf. Reflektanz = DN x Skalierung + Offset; Offset leer lassen, um die BOA_ADD_OFFSET-Metadaten zu lesen (Sentinel-2 Baseline 04.00+: -1000 DN, d. h. -0.1).
Bei Gleichstand gewinnt das früheste Datum; Pixel ohne wolkenfreie Beobachtung sind NoData.
Ausdehnung / Untersuchungsgebiet: begrenzen die Verarbeitung und die Ausgabe (Pixel außerhalb der Polygone sind NoData). Szenen auf einem anderen Gitter werden auf das Gitter der ersten Szene oder auf Ziel-KBS / Auflösung transformiert.

Ausgaben: das Komposit (Datentyp und Bandnamen der Eingabe, Echtfarbenstil) und optional ein QA-Raster: max. NDVI, Tag des Jahres des gewählten Datums, Anzahl wolkenfreier Beobachtungen.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="34"/>
        <source>Red band (number or name, e.g. B04)</source>
        <translation>Rotband (Nummer oder Name, z. B. B04)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="35"/>
        <source>NIR band (number or name, e.g. B08 or B8A)</source>
        <translation>NIR-Band (Nummer oder Name, z. B. B08 oder B8A)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="45"/>
        <source>Nearest neighbour</source>
        <translation>Nächster Nachbar</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="46"/>
        <source>Bilinear</source>
        <translation>Bilinear</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="47"/>
        <source>Cubic</source>
        <translation>Kubisch</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="48"/>
        <source>Average</source>
        <translation>Mittelwert</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="49"/>
        <source>Mode (most frequent value)</source>
        <translation>Modus (häufigster Wert)</translation>
    </message>
</context>
<context>
    <name>PartitionAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="192"/>
        <source>Partition easy / hard</source>
        <translation>Aufteilung leicht / schwer</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="194"/>
        <source>Source model</source>
        <translation>Quellmodell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="195"/>
        <source>Target block store</source>
        <translation>Ziel-Blockspeicher</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="196"/>
        <source>or target composite</source>
        <translation>oder Ziel-Komposit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="197"/>
        <source>Score</source>
        <translation>Score</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="201"/>
        <source>Easy fraction</source>
        <translation>Anteil leichter Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="202"/>
        <source>Score threshold (overrides easy fraction)</source>
        <translation>Score-Schwelle (ersetzt den Anteil leichter Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="203"/>
        <source>Split per predicted dominant class</source>
        <translation>Aufteilung je vorhergesagter dominanter Klasse</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="204"/>
        <source>Confidence threshold (confident_fraction)</source>
        <translation>Konfidenzschwelle (confident_fraction)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="205"/>
        <source>Extra bands with a composite (&apos;;&apos; separated)</source>
        <translation>Zusätzliche Bänder bei einem Komposit (durch ';' getrennt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="206"/>
        <source>Block size with a composite (0: the model&apos;s)</source>
        <translation>Blockgröße bei einem Komposit (0: die des Modells)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="207"/>
        <source>Stride with a composite (0: block size)</source>
        <translation>Schrittweite bei einem Komposit (0: Blockgröße)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="208"/>
        <source>Extent with a composite</source>
        <translation>Ausdehnung bei einem Komposit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="209"/>
        <source>Batch size (blocks)</source>
        <translation>Batchgröße (Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="214"/>
        <source>Output block store (with a composite)</source>
        <translation>Ausgabe-Blockspeicher (bei einem Komposit)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="215"/>
        <source>HDF5 files (*.h5)</source>
        <translation>HDF5-Dateien (*.h5)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="216"/>
        <source>Easy / hard mask</source>
        <translation>Maske leicht / schwer</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="217"/>
        <source>Confidence</source>
        <translation>Konfidenz</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="218"/>
        <source>Easy blocks</source>
        <translation>Leichte Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="219"/>
        <source>Hard blocks</source>
        <translation>Schwere Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="220"/>
        <source>Mean score of easy blocks</source>
        <translation>Mittlerer Score der leichten Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="221"/>
        <source>Mean score of hard blocks</source>
        <translation>Mittlerer Score der schweren Blöcke</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="193"/>
        <source>Runs the source model over the target blocks and splits them into easy blocks (where it is confident) and hard blocks, so you see where the model is unsure before adapting it.

Target: a block store (Build blocks without labels; the partition is written beside it), or a target composite from which a store is built into Output block store (Block size 0: the model&apos;s).
Score per block, higher = easier: max_probability (mean probability of the predicted class over valid pixels), entropy (1 - mean normalised entropy) or confident_fraction (share of pixels whose probability reaches Confidence threshold).
Split: the Easy fraction of the blocks with the highest scores is easy, or, when Score threshold is set, the blocks scoring at least that. Per class splits within each predicted dominant class, so a rare class still has easy blocks.

Outputs: the easy / hard mask (1 easy in blue, 2 hard in red) and the per-pixel confidence (grey, 0..1). Where blocks overlap (stride &lt; block size), each pixel shows the block whose centre is nearest. The scores, the easy and hard blocks and the model&apos;s SHA-256 go into name.h5.partition.h5 beside the store (the store itself is not changed), which Adapt and SPCL read; SPCL refuses a partition made by another model.</source>
        <translation>Wendet das Quellmodell auf die Zielblöcke an und teilt sie in leichte Blöcke (in denen es sicher ist) und schwere Blöcke auf, damit Sie sehen, wo das Modell unsicher ist, bevor Sie es anpassen.

Ziel: ein Blockspeicher (aus Blöcke erstellen ohne Labels; die Aufteilung wird neben ihn geschrieben) oder ein Ziel-Komposit, aus dem ein Speicher im Ausgabe-Blockspeicher erstellt wird (Blockgröße 0: die des Modells).
Score je Block, höher = leichter: max_probability (mittlere Wahrscheinlichkeit der vorhergesagten Klasse über die gültigen Pixel), entropy (1 - mittlere normalisierte Entropie) oder confident_fraction (Anteil der Pixel, deren Wahrscheinlichkeit die Konfidenzschwelle erreicht).
Aufteilung: Der Anteil leichter Blöcke mit den höchsten Scores ist leicht, oder, wenn eine Score-Schwelle gesetzt ist, die Blöcke mit mindestens diesem Score. Die Aufteilung je Klasse teilt innerhalb jeder vorhergesagten dominanten Klasse auf, sodass auch eine seltene Klasse leichte Blöcke hat.

Ausgaben: die Maske leicht / schwer (1 leicht in Blau, 2 schwer in Rot) und die Konfidenz je Pixel (grau, 0..1). Wo sich Blöcke überlappen (Schrittweite &lt; Blockgröße), zeigt jedes Pixel den Block, dessen Mitte am nächsten liegt. Die Scores, die leichten und schweren Blöcke und der SHA-256 des Modells kommen in name.h5.partition.h5 neben dem Speicher (der Speicher selbst wird nicht verändert), die Anpassen und SPCL lesen; SPCL weist eine Aufteilung zurück, die ein anderes Modell erstellt hat.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="198"/>
        <source>Mean highest probability</source>
        <translation>Mittlere höchste Wahrscheinlichkeit</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="199"/>
        <source>Entropy</source>
        <translation>Entropie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="200"/>
        <source>Share of confident pixels</source>
        <translation>Anteil sicherer Pixel</translation>
    </message>
</context>
<context>
    <name>PretrainAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="96"/>
        <source>Pretrain encoder (SimSiam)</source>
        <translation>Encoder vortrainieren (SimSiam)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="97"/>
        <source>Pretrains the encoder of a segmentation model without labels (SimSiam): every year and region you hold imagery of can teach it, labelled or not. Train the source model from it afterwards (Train source model, Pretrained encoder weights).

Inputs: composites (cut into blocks of Block size) and/or block stores (their labels are never read); all with the same features in the same order. They are normalised with their pooled statistics.
Method: two augmented views of each block (random resized crop, flips and 90-degree rotations, per-band brightness and contrast, blur, noise, band dropout, and spectral solarisation on the second view only); encoder, projection MLP and prediction MLP; symmetric negative cosine similarity with a stop-gradient on the target branch. SGD with momentum 0.9; the learning rate used is Learning rate x Batch size / 256, with warm-up then cosine decay. The spread of the normalised outputs is watched: a warning says when it falls toward 0 (collapse).
Evaluation (optional): with a labelled block store, a linear probe (encoder frozen) and a fine-tuned model are trained from the pretrained encoder and compared with a random initialisation on the store&apos;s validation blocks (IoU per class, mIoU).

Output: a .safetensors encoder that describes itself (encoder, features, normalisation, block size, provenance) and an HTML report (loss and learning rate, collapse statistic, augmented views, evaluation). Beside it: name.resume.safetensors. Resume: give that file (or the encoder) to continue; raise Iterations/Epochs to train longer. Cancel stops after the current step and keeps the last saved encoder.</source>
        <translation>Trainiert den Encoder eines Segmentierungsmodells ohne Labels vor (SimSiam): jedes Jahr und jede Region, von denen Sie Bilder haben, kann ihn lehren, gelabelt oder nicht. Trainieren Sie das Quellmodell anschließend davon ausgehend (Quellmodell trainieren, Vortrainierte Encoder-Gewichte).

Eingaben: Komposite (in Blöcke der Blockgröße geschnitten) und/oder Blockspeicher (ihre Labels werden nie gelesen); alle mit denselben Merkmalen in derselben Reihenfolge. Sie werden mit ihren gemeinsamen Statistiken normalisiert.
Methode: zwei augmentierte Ansichten jedes Blocks (zufälliger skalierter Ausschnitt, Spiegelungen und 90-Grad-Drehungen, Helligkeit und Kontrast je Band, Unschärfe, Rauschen, Wegfall von Bändern und spektrale Solarisation nur in der zweiten Ansicht); Encoder, Projektions-MLP und Vorhersage-MLP; symmetrische negative Kosinus-Ähnlichkeit mit Gradientenstopp im Zielzweig. SGD mit Momentum 0,9; die verwendete Lernrate ist Lernrate x Batchgröße / 256, mit Aufwärmphase und anschließendem Kosinus-Abfall. Die Streuung der normalisierten Ausgaben wird überwacht: eine Warnung meldet, wenn sie gegen 0 fällt (Kollaps).
Auswertung (optional): mit einem gelabelten Blockspeicher werden eine lineare Sonde (Encoder eingefroren) und ein feinabgestimmtes Modell vom vortrainierten Encoder aus trainiert und auf den Validierungsblöcken des Speichers mit einer zufälligen Initialisierung verglichen (IoU je Klasse, mIoU).

Ausgabe: ein .safetensors-Encoder, der sich selbst beschreibt (Encoder, Merkmale, Normalisierung, Blockgröße, Herkunft), und ein HTML-Bericht (Verlust und Lernrate, Kollaps-Kennzahl, augmentierte Ansichten, Auswertung). Daneben: name.resume.safetensors. Fortsetzen: diese Datei (oder den Encoder) übergeben, um fortzufahren; Iterationen/Epochen erhöhen, um länger zu trainieren. Abbrechen stoppt nach dem aktuellen Schritt und behält den zuletzt gespeicherten Encoder.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="98"/>
        <source>Composites (unlabelled)</source>
        <translation>Komposite (ungelabelt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="99"/>
        <source>Block stores (&apos;;&apos; separated; labels ignored)</source>
        <translation>Blockspeicher (durch ';' getrennt; Labels werden ignoriert)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="100"/>
        <source>Architecture</source>
        <translation>Architektur</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="103"/>
        <source>Encoder (U-Net; empty: resnet18)</source>
        <translation>Encoder (U-Net; leer: resnet18)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="104"/>
        <source>Block size (0: the stores&apos;)</source>
        <translation>Blockgröße (0: die der Speicher)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="105"/>
        <source>Epochs</source>
        <translation>Epochen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="106"/>
        <source>Iterations (&gt; 0 overrides epochs)</source>
        <translation>Iterationen (&gt; 0 ersetzt Epochen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="107"/>
        <source>Batch size (blocks)</source>
        <translation>Batchgröße (Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="108"/>
        <source>Learning rate (per 256 blocks)</source>
        <translation>Lernrate (je 256 Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="114"/>
        <source>Resume from (resume state or encoder)</source>
        <translation>Fortsetzen von (Fortsetzungsstand oder Encoder)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="115"/>
        <source>Labelled block store for the evaluation (optional)</source>
        <translation>Gelabelter Blockspeicher für die Auswertung (optional)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="116"/>
        <source>Evaluation iterations</source>
        <translation>Iterationen der Auswertung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="117"/>
        <source>Encoder LR scale when fine-tuning</source>
        <translation>Faktor der Encoder-Lernrate beim Feinabstimmen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="118"/>
        <source>Projection width</source>
        <translation>Breite der Projektion</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="119"/>
        <source>Prediction bottleneck width</source>
        <translation>Engpassbreite der Vorhersage</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="120"/>
        <source>Architecture arguments (JSON)</source>
        <translation>Architekturargumente (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="121"/>
        <source>Weight decay</source>
        <translation>Gewichtsabnahme (Weight Decay)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="128"/>
        <source>Pretrained encoder</source>
        <translation>Vortrainierter Encoder</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="129"/>
        <source>Encoder (*.safetensors)</source>
        <translation>Encoder (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="130"/>
        <source>Report</source>
        <translation>Bericht</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="131"/>
        <source>HTML files (*.html)</source>
        <translation>HTML-Dateien (*.html)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="132"/>
        <source>Resume state</source>
        <translation>Fortsetzungsstand</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="133"/>
        <source>Steps trained</source>
        <translation>Trainierte Schritte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="134"/>
        <source>Final loss</source>
        <translation>Endverlust</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="135"/>
        <source>Output spread (collapse statistic)</source>
        <translation>Streuung der Ausgaben (Kollaps-Kennzahl)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="136"/>
        <source>Linear probe mIoU</source>
        <translation>mIoU der linearen Sonde</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="137"/>
        <source>Fine-tuned mIoU</source>
        <translation>mIoU nach Feinabstimmung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="138"/>
        <source>Random initialisation mIoU</source>
        <translation>mIoU bei zufälliger Initialisierung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="101"/>
        <source>U-Net</source>
        <translation>U-Net</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="102"/>
        <source>TransUNet</source>
        <translation>TransUNet</translation>
    </message>
</context>
<context>
    <name>RunConfigAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="384"/>
        <source>Repeat a run</source>
        <translation>Lauf wiederholen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="385"/>
        <source>Repeats a run exactly as it was recorded: every CROPS step writes name.run.json beside its main output (the command, every parameter as resolved, the inputs&apos; sizes and times, versions, device).

Run record: that .run.json. Changes: NAME=VALUE items separated by &apos;;&apos; (e.g. SEED=3; OUTPUT=/data/map2019.tif), names as in the algorithm&apos;s parameters; a name the recorded command does not have is an error. A warning names every input whose size or time changed since the run was recorded. The repeated run writes its own .run.json.</source>
        <translation>Wiederholt einen Lauf genau so, wie er protokolliert wurde: jeder CROPS-Schritt schreibt name.run.json neben seine Hauptausgabe (der Befehl, jeder Parameter wie aufgelöst, Größe und Zeit der Eingaben, Versionen, Gerät).

Laufprotokoll: diese .run.json. Änderungen: NAME=WERT-Einträge, durch ';' getrennt (z. B. SEED=3; OUTPUT=/data/map2019.tif), Namen wie die Parameter des Algorithmus; ein Name, den der protokollierte Befehl nicht hat, ist ein Fehler. Eine Warnung nennt jede Eingabe, deren Größe oder Zeit sich seit dem Protokoll geändert hat. Der wiederholte Lauf schreibt seine eigene .run.json.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="386"/>
        <source>Run record (.run.json)</source>
        <translation>Laufprotokoll (.run.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="387"/>
        <source>Changes (NAME=VALUE; ...)</source>
        <translation>Änderungen (NAME=WERT; ...)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="388"/>
        <source>Run record of the repeat</source>
        <translation>Laufprotokoll der Wiederholung</translation>
    </message>
</context>
<context>
    <name>SampleDataAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="12"/>
        <source>Generate sample data</source>
        <translation>Beispieldaten erzeugen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="13"/>
        <source>Writes a realistic synthetic Sentinel-2 L2A season: one 10-band UInt16 GeoTIFF per date (scenes/S2_L2A_YYYYMMDD.tif, reflectance = DN / 10000), its scene classification (scenes/S2_L2A_YYYYMMDD_SCL.tif), the crop labels (labels.tif), the parcels (fields.gpkg) and the class list (classes.csv), in the same layout as real data.

Preset: &apos;source&apos; and &apos;target&apos; are two places with a clear but learnable shift (phenology, class proportions, atmosphere, clouds, field size); &apos;pair&apos; writes both into Output folder/source and Output folder/target.
Size: width and height in pixels (10 m). Dates: the season, YYYY-MM-DD; one acquisition every Revisit days. The same seed always gives the same data.</source>
        <translation>Schreibt eine realistische synthetische Sentinel-2-L2A-Saison: ein 10-Band-UInt16-GeoTIFF je Datum (scenes/S2_L2A_YYYYMMDD.tif, Reflektanz = DN / 10000), seine Szenenklassifikation (scenes/S2_L2A_YYYYMMDD_SCL.tif), die Kulturlabels (labels.tif), die Parzellen (fields.gpkg) und die Klassenliste (classes.csv), in derselben Struktur wie echte Daten.

Voreinstellung: 'source' und 'target' sind zwei Orte mit einer deutlichen, aber lernbaren Verschiebung (Phänologie, Klassenanteile, Atmosphäre, Wolken, Feldgröße); 'pair' schreibt beide nach Ausgabeordner/source und Ausgabeordner/target.
Größe: Breite und Höhe in Pixeln (10 m). Datumsangaben: die Saison, YYYY-MM-DD; eine Aufnahme je Wiederholungsintervall (Tage). Derselbe Zufallsstartwert ergibt immer dieselben Daten.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="14"/>
        <source>Preset</source>
        <translation>Voreinstellung</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="18"/>
        <source>Size (pixels)</source>
        <translation>Größe (Pixel)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="19"/>
        <source>Season start (YYYY-MM-DD)</source>
        <translation>Saisonbeginn (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="20"/>
        <source>Season end (YYYY-MM-DD)</source>
        <translation>Saisonende (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="21"/>
        <source>Revisit (days)</source>
        <translation>Wiederholungsintervall (Tage)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="22"/>
        <source>Random seed</source>
        <translation>Zufallsstartwert</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="25"/>
        <source>Output folder</source>
        <translation>Ausgabeordner</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="23"/>
        <source>Phenology shift (days; empty: the preset&apos;s)</source>
        <translation>Phänologie-Verschiebung (Tage; leer: die der Vorgabe)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="24"/>
        <source>Cloud cover (share of pixels; empty: the preset&apos;s)</source>
        <translation>Bewölkung (Anteil der Pixel; leer: die der Vorgabe)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="15"/>
        <source>Source and target pair</source>
        <translation>Quell- und Zielpaar</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="16"/>
        <source>Source domain only</source>
        <translation>Nur Quelldomäne</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="17"/>
        <source>Target domain only</source>
        <translation>Nur Zieldomäne</translation>
    </message>
</context>
<context>
    <name>TrainSourceAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="151"/>
        <source>Train source model</source>
        <translation>Quellmodell trainieren</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="153"/>
        <source>Labelled block store</source>
        <translation>Gelabelter Blockspeicher</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="154"/>
        <source>Architecture</source>
        <translation>Architektur</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="159"/>
        <source>Encoder (U-Net; empty: resnet18)</source>
        <translation>Encoder (U-Net; leer: resnet18)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="160"/>
        <source>Pretrained encoder weights</source>
        <translation>Vortrainierte Encoder-Gewichte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="161"/>
        <source>Epochs</source>
        <translation>Epochen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="162"/>
        <source>Iterations (&gt; 0 overrides epochs)</source>
        <translation>Iterationen (&gt; 0 ersetzt die Epochen)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="163"/>
        <source>Batch size (blocks)</source>
        <translation>Batchgröße (Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="164"/>
        <source>Learning rate</source>
        <translation>Lernrate</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="165"/>
        <source>Resume from (resume state or model)</source>
        <translation>Fortsetzen von (Fortsetzungszustand oder Modell)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="166"/>
        <source>Class weights</source>
        <translation>Klassengewichte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="169"/>
        <source>Dice loss weight (0: none)</source>
        <translation>Gewicht des Dice-Verlusts (0: keiner)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="170"/>
        <source>Validate every N steps (0: every epoch)</source>
        <translation>Alle N Schritte validieren (0: nach jeder Epoche)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="171"/>
        <source>Architecture arguments (JSON)</source>
        <translation>Architekturargumente (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="174"/>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="175"/>
        <source>Model (*.safetensors)</source>
        <translation>Modell (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="176"/>
        <source>Metrics per epoch (JSON)</source>
        <translation>Metriken je Epoche (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="177"/>
        <source>Metrics per epoch (CSV)</source>
        <translation>Metriken je Epoche (CSV)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="179"/>
        <source>Resume state</source>
        <translation>Fortsetzungszustand</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="180"/>
        <source>Best validation mIoU</source>
        <translation>Beste Validierungs-mIoU</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="181"/>
        <source>Epoch of the best model</source>
        <translation>Epoche des besten Modells</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="182"/>
        <source>Steps trained</source>
        <translation>Trainierte Schritte</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="172"/>
        <source>Encoder LR scale (fine-tuning)</source>
        <translation>Faktor der Encoder-Lernrate (Feinabstimmung)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="178"/>
        <source>Training curves (PNG)</source>
        <translation>Trainingskurven (PNG)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="155"/>
        <source>U-Net</source>
        <translation>U-Net</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="156"/>
        <source>TransUNet</source>
        <translation>TransUNet</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="167"/>
        <source>None (equal)</source>
        <translation>Keine (gleich)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="168"/>
        <source>Balanced (inverse square-root frequency)</source>
        <translation>Ausgeglichen (inverse Wurzel der Häufigkeit)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="157"/>
        <source>U-TAE (time series)</source>
        <translation>U-TAE (Zeitreihe)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="152"/>
        <source>Trains a segmentation model on a labelled block store (from Build blocks) and keeps the model with the best validation mIoU.

Architecture: unet (a U-Net on a timm encoder, fast on CPUs; Encoder resnet18 by default) or transunet (R50-ViT-B/16, the method&apos;s reference backbone; needs a GPU in practice); for a time-series store (Build time-series blocks, Import AgriFM samples) utae (a U-Net encoder per step with temporal attention, fast on CPUs) or agrifm (an AgriFM-style spatio-temporal Swin transformer; Import encoder weights converts AgriFM&apos;s released weights). Pretrained weights: an optional local file for the encoder: an encoder from Pretrain encoder (SimSiam), whose features must be the store&apos;s (Encoder empty takes it from the file; a lower Encoder LR scale, e.g. 0.1, fine-tunes it gently), or a .safetensors / timm .pth state dict.
Training: AdamW, warm-up then cosine decay of the learning rate, cross-entropy ignoring unlabelled pixels (optional class weights and Dice), random flips and 90-degree rotations, mixed precision on CUDA. Iterations &gt; 0 overrides Epochs (an epoch is one pass over the training blocks); each epoch ends with a validation on the store&apos;s validation blocks. On the CPU a seed gives the same model.

Output: a .safetensors model that describes itself (features, normalisation, classes with codes and colours, block size, provenance). Beside it: name.metrics.json and name.metrics.csv (loss, mIoU and IoU per class per epoch) and name.resume.safetensors. Resume: give that file (or the model) to continue a run; raise Iterations/Epochs to train longer. Cancel stops after the current step and keeps the last saved model.</source>
        <translation>Trainiert ein Segmentierungsmodell auf einem gelabelten Blockspeicher (aus Blöcke erstellen) und behält das Modell mit der besten Validierungs-mIoU.

Architektur: unet (ein U-Net auf einem timm-Encoder, schnell auf CPUs; Encoder standardmäßig resnet18) oder transunet (R50-ViT-B/16, das Referenz-Backbone der Methode; braucht in der Praxis eine GPU); für einen Zeitreihen-Speicher (Zeitreihen-Blöcke erstellen, AgriFM-Stichproben importieren) utae (ein U-Net-Encoder je Schritt mit zeitlicher Attention, schnell auf CPUs) oder agrifm (ein räumlich-zeitlicher Swin-Transformer nach AgriFM; Encoder-Gewichte importieren wandelt die veröffentlichten Gewichte von AgriFM um). Vortrainierte Gewichte: eine optionale lokale Datei für den Encoder: ein Encoder aus Encoder vortrainieren (SimSiam), dessen Merkmale die des Speichers sein müssen (ein leerer Encoder wird aus der Datei genommen; ein kleinerer Faktor der Encoder-Lernrate, z. B. 0,1, stimmt ihn behutsam fein ab), oder ein .safetensors- / timm-.pth-State-Dict.
Training: AdamW, Aufwärmphase und anschließend Kosinus-Abfall der Lernrate, Kreuzentropie ohne ungelabelte Pixel (optional Klassengewichte und Dice), zufällige Spiegelungen und 90-Grad-Drehungen, gemischte Genauigkeit auf CUDA. Iterationen &gt; 0 ersetzt Epochen (eine Epoche ist ein Durchlauf über die Trainingsblöcke); jede Epoche endet mit einer Validierung auf den Validierungsblöcken des Speichers. Auf der CPU liefert derselbe Startwert dasselbe Modell.

Ausgabe: ein .safetensors-Modell, das sich selbst beschreibt (Merkmale, Normalisierung, Klassen mit Codes und Farben, Blockgröße, Herkunft). Daneben: name.metrics.json und name.metrics.csv (Verlust, mIoU und IoU je Klasse und Epoche) und name.resume.safetensors. Fortsetzen: diese Datei (oder das Modell) übergeben, um einen Lauf fortzusetzen; Iterationen/Epochen erhöhen, um länger zu trainieren. Abbrechen stoppt nach dem aktuellen Schritt und behält das zuletzt gespeicherte Modell.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="158"/>
        <source>AgriFM Video Swin (time series)</source>
        <translation>AgriFM Video Swin (Zeitreihe)</translation>
    </message>
</context>
<context>
    <name>TrustReportAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="313"/>
        <source>What the adaptation changed (trust report)</source>
        <translation>Was die Anpassung geändert hat (Vertrauensbericht)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="314"/>
        <source>Shows what an adaptation changed on the target, without any label: the source model and the adapted model both predict every block of the target store.

Report (HTML, with pictures): the share of pixels whose class changed; class shares before and after; confidence and entropy histograms before and after; which classes moved to which. A warning names every class whose share collapsed (less than a third of its share before) or exploded (at least doubled, by at least 10 points of the pixels): then check the map before using it.
Agreement: a raster on the store&apos;s grid, 1 unchanged (grey) and 2 changed (orange).</source>
        <translation>Zeigt ohne jedes Label, was eine Anpassung im Zielgebiet geändert hat: das Quellmodell und das angepasste Modell sagen beide jeden Block des Zielspeichers voraus.

Bericht (HTML, mit Bildern): der Anteil der Pixel, deren Klasse sich geändert hat; Klassenanteile vorher und nachher; Histogramme der Konfidenz und der Entropie vorher und nachher; welche Klassen zu welchen wurden. Eine Warnung nennt jede Klasse, deren Anteil eingebrochen (weniger als ein Drittel des Anteils vorher) oder explodiert ist (mindestens verdoppelt, um mindestens 10 Prozentpunkte der Pixel): dann die Karte prüfen, bevor man sie verwendet.
Übereinstimmung: ein Raster im Raster des Speichers, 1 unverändert (grau) und 2 geändert (orange).</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="315"/>
        <source>Source model</source>
        <translation>Quellmodell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="316"/>
        <source>Adapted model</source>
        <translation>Angepasstes Modell</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="317"/>
        <source>Target block store</source>
        <translation>Ziel-Blockspeicher</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="318"/>
        <source>Batch size (blocks)</source>
        <translation>Stapelgröße (Blöcke)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="319"/>
        <source>Trust report</source>
        <translation>Vertrauensbericht</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="320"/>
        <source>HTML files (*.html)</source>
        <translation>HTML-Dateien (*.html)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="321"/>
        <source>Agreement (unchanged / changed)</source>
        <translation>Übereinstimmung (unverändert / geändert)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="322"/>
        <source>Share of pixels that changed class</source>
        <translation>Anteil der Pixel mit geänderter Klasse</translation>
    </message>
</context>
</TS>
