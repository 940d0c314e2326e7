<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>AdaptAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="222"/>
        <source>Adapt (baselines)</source>
        <translation>Adapter (méthodes de référence)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="224"/>
        <source>Method</source>
        <translation>Méthode</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="228"/>
        <source>Source model</source>
        <translation>Modèle source</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="229"/>
        <source>Target block store</source>
        <translation>Stock de blocs cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="230"/>
        <source>Blocks</source>
        <translation>Blocs</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="234"/>
        <source>Iterations</source>
        <translation>Itérations</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="235"/>
        <source>Batch size (blocks)</source>
        <translation>Taille de lot (blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="236"/>
        <source>Learning rate (empty: the method&apos;s default)</source>
        <translation>Taux d'apprentissage (vide : valeur par défaut de la méthode)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="238"/>
        <source>entropy: parameters to train</source>
        <translation>entropy : paramètres à entraîner</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="242"/>
        <source>entropy: diversity weight</source>
        <translation>entropy : poids de diversité</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="243"/>
        <source>entropy: diversity prior</source>
        <translation>entropy : a priori de diversité</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="246"/>
        <source>self_training: teacher EMA momentum</source>
        <translation>self_training : momentum EMA de l'enseignant</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="247"/>
        <source>self_training: confidence threshold (highest)</source>
        <translation>self_training : seuil de confiance (maximal)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="248"/>
        <source>self_training: share of each class pseudo-labelled</source>
        <translation>self_training : proportion pseudo-étiquetée de chaque classe</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="249"/>
        <source>self_training: rounds</source>
        <translation>self_training : tours</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="250"/>
        <source>self_training: photometric jitter</source>
        <translation>self_training : perturbation photométrique</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="266"/>
        <source>Blocks of the initial calibration pass</source>
        <translation>Blocs de la passe de calibrage initiale</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="251"/>
        <source>co_training: rounds</source>
        <translation>co_training : tours</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="252"/>
        <source>co_training: epochs per round</source>
        <translation>co_training : époques par tour</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="253"/>
        <source>co_training: final epochs</source>
        <translation>co_training : époques finales</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="254"/>
        <source>co_training: share kept per class</source>
        <translation>co_training : part gardée par classe</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="255"/>
        <source>co_training: minimum pixels per class per block</source>
        <translation>co_training : pixels minimum par classe et par bloc</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="256"/>
        <source>co_training: fusion</source>
        <translation>co_training : fusion</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="260"/>
        <source>co_training: models</source>
        <translation>co_training : modèles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="261"/>
        <source>co_training: how the two models differ</source>
        <translation>co_training : en quoi les deux modèles diffèrent</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="225"/>
        <source>Entropy minimisation</source>
        <translation>Minimisation de l'entropie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="226"/>
        <source>Self-training (mean teacher)</source>
        <translation>Auto-apprentissage (mean teacher)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="227"/>
        <source>Co-training (two models)</source>
        <translation>Co-apprentissage (deux modèles)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="231"/>
        <source>All blocks</source>
        <translation>Tous les blocs</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="232"/>
        <source>Easy blocks</source>
        <translation>Blocs faciles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="233"/>
        <source>Hard blocks</source>
        <translation>Blocs difficiles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="239"/>
        <source>Normalisation layers</source>
        <translation>Couches de normalisation</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="240"/>
        <source>Encoder</source>
        <translation>Encodeur</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="241"/>
        <source>All parameters</source>
        <translation>Tous les paramètres</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="244"/>
        <source>Uniform</source>
        <translation>Uniforme</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="245"/>
        <source>The source&apos;s class shares</source>
        <translation>Les proportions de classes de la source</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="257"/>
        <source>The more confident model</source>
        <translation>Le modèle le plus confiant</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="258"/>
        <source>Where both agree</source>
        <translation>Là où les deux concordent</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="259"/>
        <source>Mean of the probabilities</source>
        <translation>Moyenne des probabilités</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="262"/>
        <source>Snapshots of one run</source>
        <translation>Instantanés d'une exécution</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="263"/>
        <source>Two runs with other seeds</source>
        <translation>Deux exécutions avec d'autres graines</translation>
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
        <translation>Adapte un modèle source à la zone cible sans aucune donnée source, avec une méthode de référence (pour mesurer l'apport de SPCL).

entropy : minimisation de l'entropie avec un terme de diversité (Tent / SHOT). Paramètres : norm (uniquement les couches de normalisation, Tent), encoder (tout sauf les têtes, SHOT) ou all. Le terme de diversité, multiplié par le poids de diversité, maintient les proportions de classes du lot proches de proportions égales (a priori uniform) ou de celles du modèle source sur la cible (source).
self_training : un enseignant (moyenne mobile de l'élève, momentum EMA) étiquette les pixels cibles dont la confiance atteint un seuil propre à chaque classe : chaque classe garde sa proportion de pixels les plus sûrs, sans jamais exiger plus que le seuil de confiance ; les seuils sont réactualisés à chacun des tours. L'élève les apprend sur une vue perturbée photométriquement. L'enseignant est le modèle adapté.
co_training : deux modèles collaborent par des pseudo-étiquettes. Une phase d'auto-apprentissage (les réglages de self_training, Itérations pas) donne deux modèles : deux instantanés de celle-ci (à mi-parcours et à la fin) ou deux exécutions avec des graines différentes (co_training : en quoi les deux modèles diffèrent). Puis, à chacun des co_training : tours, les deux modèles étiquettent la cible et leurs étiquettes sont fusionnées (agreement : là où ils sont d'accord ; confidence : le plus sûr là où ils divergent ; mean : leurs probabilités moyennes) ; chaque classe garde sa part de pixels les plus sûrs (co_training : part gardée par classe), et un bloc ne garde une classe qu'avec au moins co_training : pixels minimum par classe et par bloc de celle-ci. Chaque modèle est ensuite réentraîné pendant co_training : époques par tour sur ces pseudo-étiquettes, mélangées par ClassMix entre blocs cibles. Un modèle final, parti du modèle source, apprend les dernières pseudo-étiquettes fusionnées (co_training : époques finales) ; c'est le modèle adapté. co_training : modèles 1 omet le second modèle (une ablation). Les modèles et étiquettes des phases sont conservés dans name.co_training à côté de la sortie ; le journal contient, pour chaque tour, les proportions de classes, l'accord et les seuils.

Compléments génériques, désactivés par défaut pour que les méthodes de référence restent ce que leur nom dit (la commande SPCL a les deux activés) : Réestimer les statistiques BatchNorm (AdaBN : les statistiques des couches BatchNorm du modèle source sont remplacées, avant toute autre chose, par leur moyenne sur les blocs cibles) et Maintenir la distribution des classes (les probabilités pseudo-étiquetées, ou dont l'entropie est minimisée, sont multipliées par la distribution des classes du premier modèle sur la cible divisée par leur distribution courante : l'alignement de distribution de ReMixMatch). Avec les deux activés, entropy et self_training reçoivent ce que SPCL reçoit avant ses propres parties.

Blocs : tous les blocs cibles, ou la répartition faciles / difficiles de Partition faciles / difficiles. Taux d'apprentissage vide : la valeur par défaut de la méthode (entropy 0.001, self_training et co_training 0.00003).
Sortie : le modèle adapté (.safetensors ; provenance : le SHA-256 du modèle source, le stock cible et chaque hyperparamètre). À côté : name.adapt.json (configuration et historique de la perte) et name.resume.safetensors (à donner à Reprendre depuis pour continuer). Annuler conserve le dernier point de contrôle complet.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="264"/>
        <source>entropy, self_training: re-estimate BatchNorm statistics on the target</source>
        <translation>entropy, self_training : réestimer les statistiques BatchNorm sur la cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="265"/>
        <source>entropy, self_training: hold the class distribution</source>
        <translation>entropy, self_training : maintenir la distribution des classes</translation>
    </message>
</context>
<context>
    <name>AdaptSpclAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="277"/>
        <source>Adapt with SPCL</source>
        <translation>Adapter avec SPCL</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="279"/>
        <source>Source model</source>
        <translation>Modèle source</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="280"/>
        <source>Target block store (partitioned)</source>
        <translation>Stock de blocs cible (partitionné)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="281"/>
        <source>Iterations</source>
        <translation>Itérations</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="282"/>
        <source>Batch size (easy and hard blocks each)</source>
        <translation>Taille de lot (blocs faciles et difficiles, chacun)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="283"/>
        <source>Learning rate</source>
        <translation>Taux d'apprentissage</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="284"/>
        <source>Teacher EMA momentum</source>
        <translation>Momentum EMA de l'enseignant</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="285"/>
        <source>Temperature</source>
        <translation>Température</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="286"/>
        <source>Confidence threshold</source>
        <translation>Seuil de confiance</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="287"/>
        <source>Contrastive weight</source>
        <translation>Poids contrastif</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="291"/>
        <source>Hard schedule</source>
        <translation>Calendrier des blocs difficiles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="298"/>
        <source>Share of hard blocks at the start (linear)</source>
        <translation>Proportion de blocs difficiles au début (linear)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="302"/>
        <source>Easy-block pseudo-label weight (0: off)</source>
        <translation>Poids des pseudo-étiquettes des blocs faciles (0 : désactivé)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="303"/>
        <source>Photometric jitter of the mixed view</source>
        <translation>Perturbation photométrique de la vue mélangée</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="299"/>
        <source>ClassMix weighting</source>
        <translation>Pondération du ClassMix</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="304"/>
        <source>Re-estimate BatchNorm statistics on the target</source>
        <translation>Réestimer les statistiques BatchNorm sur la cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="311"/>
        <source>Embedding pixel stride (1: every pixel)</source>
        <translation>Pas en pixels des plongements (1 : chaque pixel)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="312"/>
        <source>Blocks of the first passes (0: all)</source>
        <translation>Blocs des premiers passages (0 : tous)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="305"/>
        <source>Hold the pseudo-labels&apos; class distribution (alignment)</source>
        <translation>Maintenir la distribution de classes des pseudo-étiquettes (alignement)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="310"/>
        <source>Rectify pseudo-labels with the class prototypes</source>
        <translation>Rectifier les pseudo-étiquettes avec les prototypes de classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="288"/>
        <source>Prototypes</source>
        <translation>Prototypes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="289"/>
        <source>Point (mean embedding per class)</source>
        <translation>Ponctuel (plongement moyen par classe)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="290"/>
        <source>Probabilistic (PPPC)</source>
        <translation>Probabiliste (PPPC)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="292"/>
        <source>Constant (all hard blocks)</source>
        <translation>Constant (tous les blocs difficiles)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="293"/>
        <source>Linear (from the start share to all)</source>
        <translation>Linéaire (de la proportion de départ à tous)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="300"/>
        <source>Block&apos;s confident share</source>
        <translation>Part confiante du bloc</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="301"/>
        <source>Pixel&apos;s confidence</source>
        <translation>Confiance du pixel</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="294"/>
        <source>Contrast targets</source>
        <translation>Cibles du contraste</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="295"/>
        <source>Confident hard pixels (their label)</source>
        <translation>Pixels difficiles confiants (leur étiquette)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="296"/>
        <source>All hard pixels (soft prototype targets, margin-weighted)</source>
        <translation>Tous les pixels difficiles (cibles souples des prototypes, pondérées par la marge)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="297"/>
        <source>Prototype momentum (0: running mean)</source>
        <translation>Momentum des prototypes (0 : moyenne courante)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="306"/>
        <source>Class distribution held (alignment)</source>
        <translation>Distribution des classes maintenue (alignement)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="307"/>
        <source>The first teacher&apos;s (after BatchNorm re-estimation)</source>
        <translation>Celle du premier enseignant (après la réestimation BatchNorm)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="308"/>
        <source>The source model&apos;s, before BatchNorm re-estimation</source>
        <translation>Celle du modèle source, avant la réestimation BatchNorm</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="309"/>
        <source>Mix easy classes into the hard blocks (ClassMix)</source>
        <translation>Mélanger les classes des blocs faciles dans les blocs difficiles (ClassMix)</translation>
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
        <translation>Adapte un modèle source à la zone cible sans aucune donnée source : Semantic Prototypical Contrastive Learning sur un stock de blocs cible réparti en blocs faciles et difficiles (exécutez d'abord Partition faciles / difficiles).

Les statistiques BatchNorm du modèle source sont d&apos;abord réestimées sur les blocs cibles. Un enseignant (une moyenne mobile exponentielle de l&apos;élève, momentum EMA) étiquette ensuite un lot facile et un lot difficile à chaque pas. Le lot difficile suit un programme du facile au difficile (Calendrier des blocs difficiles linear) : il commence avec Proportion de blocs difficiles au début (linear) de blocs difficiles, le reste des blocs faciles, et finit avec seulement des blocs difficiles (constant : seulement des blocs difficiles dès le premier pas). Les prototypes de classe sont les moyennes courantes des plongements de l&apos;enseignant pour les pixels faciles dont il est sûr (confiance &gt;= Seuil de confiance), commencées par un passage sur les blocs faciles. L&apos;élève apprend un ClassMix de classes de blocs faciles collées sur des blocs difficiles, chaque pixel pondéré par la confiance de l&apos;enseignant en lui (ou chaque bloc par la part de ses pixels dont l&apos;enseignant est sûr), plus Poids contrastif x une perte contrastive par prototypes qui atteint chaque pixel difficile du bloc mélangé, y compris les peu sûrs : sa cible est le softmax des similarités du plongement de l&apos;enseignant aux prototypes (la Température les met à l&apos;échelle), pondéré par la marge de l&apos;enseignant, si bien que l&apos;attraction s&apos;éteint à la frontière de décision. Les probabilités de l&apos;enseignant sont pondérées par la similarité de chaque pixel aux prototypes de classe (rectification par prototypes), si bien qu&apos;un pixel dont le plongement se trouve près du prototype d&apos;une autre classe perd en confiance ou change d&apos;étiquette ; avec Maintenir la distribution de classes des pseudo-étiquettes, elles sont aussi remises à l&apos;échelle pour que les pseudo-étiquettes gardent la distribution des classes prédite sur la cible au départ (alignement de distribution).
Les valeurs par défaut sont les parties qui ont apporté un gain dans une ablation sur des graines sur lesquelles elles n&apos;ont pas été réglées (bench/results/adaptation_notes.md) ; l&apos;alignement de distribution et les prototypes mobiles n&apos;en ont pas apporté et sont des options.
Prototypes probabilistic (PPPC) : le plongement de chaque pixel et chaque prototype sont des gaussiennes, la variance du pixel venant d'une tête de variance entraînée à côté de la tête de projection, celle du prototype de ses pixels faciles ; la perte contrastive et la rectification les comparent par leur score de vraisemblance mutuelle (MLS), si bien qu'un pixel ambigu (forte variance) attire moins et pèse moins dans son prototype. La tête de variance ne sert que pendant l'adaptation.

Paramètres avancés :
Cibles du contraste : quels pixels difficiles la perte contrastive atteint. Confiants : ceux que l'enseignant étiquette avec une confiance &gt;= Seuil de confiance, tirés vers le prototype de leur étiquette. Souples : chaque pixel difficile du bloc mélangé, sa cible le softmax des similarités de l'embedding de l'enseignant aux prototypes, pondéré par la marge de l'enseignant (la probabilité de sa première classe moins celle de la deuxième), de sorte que l'attraction s'éteint à la frontière de décision ; cela coûte la tête de projection lors du passage de l'enseignant sur le lot difficile.
Momentum des prototypes (0 : moyenne courante) : 0 garde chaque prototype comme la moyenne de tous les pixels faciles confiants vus ; au-dessus de 0, après la première passe, chaque pas déplace les prototypes des classes de son lot facile vers la moyenne de ce lot (prototype = momentum x prototype + (1 - momentum) x moyenne du lot, puis longueur un), de sorte qu'ils suivent les variables en adaptation. Prototypes ponctuels uniquement.
Proportion de blocs difficiles au début (linear) : avec un calendrier des blocs difficiles linéaire, la part de blocs difficiles dans le lot difficile au premier pas ; elle croît jusqu'à tous les blocs difficiles au dernier.
Pondération ClassMix : combien compte un pixel mélangé : sa propre confiance, ou la part des pixels de son bloc dont l&apos;enseignant est sûr (un poids par bloc, comme dans DACS).
Poids des pseudo-étiquettes des blocs faciles (0 : désactivé) : ajoute l'entropie croisée des pseudo-étiquettes de l'enseignant sur le lot facile, multipliée par ce poids ; cela coûte une seconde passe avant par pas.
Perturbation photométrique de la vue mélangée : un gain et un décalage aléatoires par bloc et par bande (1 +- et +- cette valeur, en unités normalisées) et un bruit par pixel sur la vue mélangée de l'élève (0 : aucune), une vue plus forte que celle de l'enseignant.
Réestimer les statistiques BatchNorm sur la cible : un passage sur les blocs cibles avant l'adaptation, pour que la normalisation de la source convienne aux réflectances de la cible.
Maintenir la distribution de classes des pseudo-étiquettes (alignement) et Rectifier les pseudo-étiquettes avec les prototypes de classes : l&apos;alignement de distribution (désactivé par défaut) et la rectification par prototypes (activée) décrits plus haut.
Distribution des classes maintenue (alignement) : celle du premier enseignant (ses prédictions après la réestimation BatchNorm) ou celle du modèle source lui-même, mesurée avant elle : là où la réestimation déplace les parts des classes (une classe minoritaire qui s&apos;efface), celle du modèle source les conserve.
Mélanger les classes des blocs faciles dans les blocs difficiles (ClassMix) : décocher pour que l&apos;élève apprenne les pseudo-étiquettes propres des blocs difficiles, pondérées de même, sans rien coller (une ablation de ClassMix).
Pas en pixels des plongements (1 : chaque pixel) : les prototypes et la perte contrastive utilisent un pixel sur n des lignes et des colonnes : 2 utilise un quart des pixels, plus rapide et plus léger en mémoire.
Blocs des premiers passages (0 : tous) : combien de blocs cibles lisent le passage BatchNorm et les premiers prototypes (0 : chaque bloc) ; moins démarre plus vite sur un grand magasin.
Aligner les statistiques de la cible sur celles du modèle : ramène chaque bande cible, avant tout le reste, sur les statistiques de la source enregistrées dans le modèle (moyenne et écart type, ou appariement d'histogrammes).
Décroissance des poids (weight decay) : la décroissance des poids d'AdamW. Échauffement (fraction des pas) : le taux d'apprentissage croît linéairement depuis 0 sur cette part des pas (au plus 500), puis décroît.
Précision mixte sur CUDA : calcul en float16 sur un GPU (plus rapide, moins de mémoire ; sans effet sur un CPU).
Point de contrôle tous les N pas (0 : avec l'état de reprise) et Enregistrer l'état de reprise toutes les N secondes (0 : à chaque pas) : à quelle fréquence le modèle et l'état de reprise sont écrits ; un plantage en perd au plus autant.
Threads CPU (0 : tous) : threads utilisés par torch sur un CPU (0 : valeur par défaut de torch, tous les cœurs).
SyncBatchNorm sur tous les processus (torchrun) : sous torchrun, statistiques BatchNorm sur le lot global de tous les processus (sans effet dans un seul processus).

Sortie : le modèle adapté (.safetensors, l'enseignant ; sa provenance indique le SHA-256 du modèle source, le stock cible et chaque hyperparamètre). À côté : name.adapt.json (configuration, perte par pas, normes des prototypes et proportions de classes des pseudo-étiquettes : une classe dont la proportion ne cesse de baisser signale un effondrement) et name.resume.safetensors. Reprise : donnez ce fichier pour continuer. Annuler conserve le dernier point de contrôle complet. Cartographiez avec le modèle adapté via Cartographier les cultures (crops:infer).</translation>
    </message>
</context>
<context>
    <name>AlignStatisticsAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="183"/>
        <source>Align statistics to the model</source>
        <translation>Aligner les statistiques sur le modèle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="184"/>
        <source>Aligns a target composite to the source statistics a model recorded when it was trained, without any source data: each band of the composite is mapped onto the model&apos;s statistics of the feature with the same name.

mean_std: each band is shifted and scaled so that its mean and standard deviation become the model&apos;s. histogram: histogram matching; each band&apos;s quantiles become the per-band quantiles the model recorded of its training pixels. Models trained before quantiles were recorded have only mean and standard deviation: use mean_std with them, or train the model again.
The target&apos;s statistics are measured on a regular sample of its valid pixels.

Output: a Float32 GeoTIFF with the composite&apos;s bands and band names (nodata NaN), styled in natural colour. Partition, Adapt, Adapt with SPCL and Map crops can instead align on the fly (their Align the target&apos;s statistics option); give inference the same alignment the model was adapted with.</source>
        <translation>Aligne un composite cible sur les statistiques source qu'un modèle a enregistrées lors de son entraînement, sans aucune donnée source : chaque bande du composite est projetée sur les statistiques du modèle pour la variable de même nom.

mean_std : chaque bande est décalée et mise à l'échelle pour que sa moyenne et son écart type deviennent ceux du modèle. histogram : égalisation d'histogramme ; les quantiles de chaque bande deviennent les quantiles par bande que le modèle a enregistrés sur ses pixels d'entraînement. Les modèles entraînés avant l'enregistrement des quantiles n'ont que la moyenne et l'écart type : utilisez mean_std avec eux, ou entraînez à nouveau le modèle.
Les statistiques de la cible sont mesurées sur un échantillon régulier de ses pixels valides.

Sortie : un GeoTIFF Float32 avec les bandes et les noms de bandes du composite (nodata NaN), stylé en couleurs naturelles. Partition faciles / difficiles, Adapter (méthodes de référence), Adapter avec SPCL et Cartographier les cultures (inférence) peuvent plutôt aligner à la volée (leur option Aligner les statistiques de la cible sur celles du modèle) ; donnez à l'inférence le même alignement que celui avec lequel le modèle a été adapté.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="185"/>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="186"/>
        <source>Target composite</source>
        <translation>Composite cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="187"/>
        <source>Align the target&apos;s statistics to the model&apos;s</source>
        <translation>Aligner les statistiques de la cible sur celles du modèle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="190"/>
        <source>Aligned composite</source>
        <translation>Composite aligné</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="191"/>
        <source>Bands aligned</source>
        <translation>Bandes alignées</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="188"/>
        <source>Histogram matching</source>
        <translation>Appariement d'histogrammes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="189"/>
        <source>Mean and standard deviation</source>
        <translation>Moyenne et écart type</translation>
    </message>
</context>
<context>
    <name>BatchAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="389"/>
        <source>Run a batch plan</source>
        <translation>Exécuter un plan de lot</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="390"/>
        <source>Runs the runs of a plan in order, each with its own outputs and .run.json, and ends with a summary table (run, command, status, seconds, message).

Plan: a JSON file {&quot;on_failure&quot;: &quot;stop&quot;, &quot;runs&quot;: [...]} (on_failure: stop or continue); each run is {&quot;name&quot;: ..., &quot;command&quot;: &quot;adapt-spcl&quot;, &quot;parameters&quot;: {&quot;MODEL&quot;: ..., ...}} or {&quot;config&quot;: &quot;earlier.run.json&quot;, &quot;set&quot;: {&quot;SEED&quot;: 3}} (a recorded run repeated with changes). Relative paths in a plan are relative to the plan&apos;s folder. On failure, stop (the default) skips the remaining runs; continue runs them. The batch fails when any run failed.
Summary: an optional JSON file with the table.</source>
        <translation>Exécute les exécutions d'un plan dans l'ordre, chacune avec ses propres sorties et son .run.json, et termine par un tableau récapitulatif (exécution, commande, statut, secondes, message).

Plan : un fichier JSON {&quot;on_failure&quot;: &quot;stop&quot;, &quot;runs&quot;: [...]} (on_failure : stop ou continue) ; chaque exécution est {&quot;name&quot;: ..., &quot;command&quot;: &quot;adapt-spcl&quot;, &quot;parameters&quot;: {&quot;MODEL&quot;: ..., ...}} ou {&quot;config&quot;: &quot;earlier.run.json&quot;, &quot;set&quot;: {&quot;SEED&quot;: 3}} (une exécution enregistrée, répétée avec des modifications). Les chemins relatifs d'un plan sont relatifs au dossier du plan. En cas d'échec, stop (par défaut) saute les exécutions restantes ; continue les exécute. Le lot échoue si une exécution a échoué.
Résumé : un fichier JSON facultatif contenant le tableau.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="391"/>
        <source>Plan (.json)</source>
        <translation>Plan (.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="392"/>
        <source>Summary (JSON)</source>
        <translation>Résumé (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="393"/>
        <source>JSON files (*.json)</source>
        <translation>Fichiers JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="394"/>
        <source>Runs that succeeded</source>
        <translation>Exécutions réussies</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="395"/>
        <source>Runs that failed</source>
        <translation>Exécutions échouées</translation>
    </message>
</context>
<context>
    <name>BuildBlocksAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="52"/>
        <source>Build blocks</source>
        <translation>Construire les blocs</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="53"/>
        <source>Cuts a composite (e.g. the NDVI quality mosaic) into square blocks and writes them, normalisation statistics included, to an HDF5 block store for training and adaptation.

Labels (source area): a raster of label codes, or polygons with a Label field (any CRS: reprojected). Class map: codes to classes, e.g. &apos;1200=maize; *=other; 0=ignore&apos; (optional colour: &apos;1200=maize #e6ab02&apos;); empty: the label values are the classes (0 = ignore), named from a classes.csv beside the labels. Without labels (target area) the store holds images only.
Extra bands: more features on the composite&apos;s grid, PATH or PATH@BANDS separated by &apos;;&apos; (e.g. qa.tif@day_of_year).
Block size and stride in pixels (stride 0: the block size, no overlap). A validation fraction of the blocks, in whole spatial groups, is set aside for validation.
Only blocks with a labelled pixel (source) or a valid pixel (target) are written.</source>
        <translation>Découpe un composite (p. ex. la mosaïque de qualité NDVI) en blocs carrés et les écrit, statistiques de normalisation comprises, dans un stock de blocs HDF5 pour l'entraînement et l'adaptation.

Étiquettes (zone source) : un raster de codes d'étiquettes, ou des polygones avec un champ d'étiquette (n'importe quel SCR : reprojeté). Correspondance des classes : codes vers classes, p. ex. '1200=maize; *=other; 0=ignore' (couleur facultative : '1200=maize #e6ab02') ; vide : les valeurs des étiquettes sont les classes (0 = ignoré), nommées d'après un classes.csv placé à côté des étiquettes. Sans étiquettes (zone cible), le stock ne contient que des images.
Bandes supplémentaires : d'autres variables sur la grille du composite, PATH ou PATH@BANDS séparés par ';' (p. ex. qa.tif@day_of_year).
Taille des blocs et pas de découpage en pixels (pas 0 : la taille des blocs, sans chevauchement). Une fraction de validation des blocs, par groupes spatiaux entiers, est mise de côté pour la validation.
Seuls les blocs ayant un pixel étiqueté (source) ou un pixel valide (cible) sont écrits.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="54"/>
        <source>Composite</source>
        <translation>Composite</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="55"/>
        <source>Labels (raster or polygons; empty for a target store)</source>
        <translation>Étiquettes (raster ou polygones ; vide pour un stock cible)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="56"/>
        <source>Label field (polygons)</source>
        <translation>Champ d'étiquette (polygones)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="57"/>
        <source>Class map (codes to classes)</source>
        <translation>Correspondance des classes (codes vers classes)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="59"/>
        <source>Block size (pixels)</source>
        <translation>Taille des blocs (pixels)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="60"/>
        <source>Extent</source>
        <translation>Emprise</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="61"/>
        <source>Extra bands (PATH or PATH@BANDS; &apos;;&apos; separated)</source>
        <translation>Bandes supplémentaires (PATH ou PATH@BANDS ; séparées par ';')</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="62"/>
        <source>Stride (pixels; 0: block size)</source>
        <translation>Pas de découpage (pixels ; 0 : taille des blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="63"/>
        <source>Validation fraction</source>
        <translation>Fraction de validation</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="64"/>
        <source>Validation group size (blocks; 0: automatic)</source>
        <translation>Taille des groupes de validation (blocs ; 0 : automatique)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="65"/>
        <source>Seed of the validation split</source>
        <translation>Graine de la répartition de validation</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="66"/>
        <source>Block store</source>
        <translation>Stock de blocs</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="67"/>
        <source>HDF5 files (*.h5)</source>
        <translation>Fichiers HDF5 (*.h5)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="68"/>
        <source>Blocks written</source>
        <translation>Blocs écrits</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="69"/>
        <source>Training blocks</source>
        <translation>Blocs d'entraînement</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="70"/>
        <source>Validation blocks</source>
        <translation>Blocs de validation</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="58"/>
        <source>CRS of labels that have none</source>
        <translation>SCR des étiquettes qui n'en ont pas</translation>
    </message>
</context>
<context>
    <name>BuildSeriesAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="71"/>
        <source>Build time-series blocks</source>
        <translation>Construire des blocs de séries temporelles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="72"/>
        <source>Builds a block store whose images are a time series rather than one composite: a regular temporal grid from the Start date to the End date in steps of Step days. Each step is the NDVI quality mosaic of the scenes acquired in it (per pixel, all bands of the clear date with the highest NDVI); where a step has no clear observation, its values are interpolated linearly in time from the steps before and after (the store keeps a mask of the observed steps). A temporal model (train-source, architecture U-TAE) learns when each crop is green.

Scenes, cloud mask, red / NIR band, scale and offset: as for the NDVI quality mosaic. Start / end date: empty for the first / last scene&apos;s date; source and target series should span the same part of their seasons with the same Step days, so they have as many steps.
Labels, class map, block size, stride and the validation split: as for Build blocks.</source>
        <translation>Crée un magasin de blocs dont les images sont une série temporelle plutôt qu'un seul composite : une grille temporelle régulière de la date de début à la date de fin, par pas de Pas jours. Chaque pas est la mosaïque de qualité NDVI des scènes acquises pendant ce pas (par pixel, toutes les bandes de la date claire au NDVI le plus élevé) ; lorsqu'un pas n'a aucune observation claire, ses valeurs sont interpolées linéairement dans le temps à partir des pas précédent et suivant (le magasin garde un masque des pas observés). Un modèle temporel (train-source, architecture U-TAE) apprend quand chaque culture est verte.

Scènes, masque de nuages, bande rouge / PIR, échelle et décalage : comme pour la mosaïque de qualité NDVI. Date de début / fin : vide pour la date de la première / dernière scène ; les séries source et cible doivent couvrir la même partie de leur saison avec le même Pas en jours, pour avoir autant de pas.
Étiquettes, table des classes, taille de bloc, pas entre blocs et partage de validation : comme pour Construire les blocs.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="73"/>
        <source>Start date (YYYY-MM-DD)</source>
        <translation>Date de début (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="74"/>
        <source>End date (YYYY-MM-DD)</source>
        <translation>Date de fin (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="75"/>
        <source>Step (days)</source>
        <translation>Pas (jours)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="76"/>
        <source>Blocks written</source>
        <translation>Blocs écrits</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="77"/>
        <source>Training blocks</source>
        <translation>Blocs d'entraînement</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="78"/>
        <source>Validation blocks</source>
        <translation>Blocs de validation</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="79"/>
        <source>Time steps</source>
        <translation>Pas de temps</translation>
    </message>
</context>
<context>
    <name>ChoiceWidgetWrapper</name>
    <message>
        <location filename="../crops_qgis/algorithms/widgets.py" line="60"/>
        <source>[not set]</source>
        <translation>[non défini]</translation>
    </message>
</context>
<context>
    <name>CropsAlgorithm</name>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="49"/>
        <source>1. Data</source>
        <translation>1. Données</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="50"/>
        <source>2. Pre-processing</source>
        <translation>2. Prétraitement</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="51"/>
        <source>3. Source model</source>
        <translation>3. Modèle source</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="52"/>
        <source>4. Adaptation</source>
        <translation>4. Adaptation</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="53"/>
        <source>5. Mapping and evaluation</source>
        <translation>5. Cartographie et évaluation</translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/base.py" line="54"/>
        <source>Tools</source>
        <translation>Outils</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="109"/>
        <source>Device</source>
        <translation>Périphérique</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="113"/>
        <source>Random seed</source>
        <translation>Graine aléatoire</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="173"/>
        <source>Weight decay</source>
        <translation>Décroissance des poids (weight decay)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="122"/>
        <source>Warm-up (fraction of the steps)</source>
        <translation>Échauffement (fraction des pas)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="123"/>
        <source>Mixed precision on CUDA</source>
        <translation>Précision mixte sur CUDA</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="126"/>
        <source>CPU threads (0: all)</source>
        <translation>Threads CPU (0 : tous)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="237"/>
        <source>Resume from (resume state or adapted model)</source>
        <translation>Reprendre depuis (état de reprise ou modèle adapté)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="267"/>
        <source>Adapted model</source>
        <translation>Modèle adapté</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="268"/>
        <source>Model (*.safetensors)</source>
        <translation>Modèle (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="269"/>
        <source>Adaptation log (JSON)</source>
        <translation>Journal d'adaptation (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="274"/>
        <source>Resume state</source>
        <translation>État de reprise</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="275"/>
        <source>Steps done</source>
        <translation>Pas effectués</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="276"/>
        <source>Final loss</source>
        <translation>Perte finale</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="124"/>
        <source>Checkpoint every N steps (0: with the resume state)</source>
        <translation>Point de contrôle tous les N pas (0 : avec l'état de reprise)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="127"/>
        <source>SyncBatchNorm over all processes (torchrun)</source>
        <translation>SyncBatchNorm sur tous les processus (torchrun)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="125"/>
        <source>Save the resume state every N seconds (0: every step)</source>
        <translation>Enregistrer l'état de reprise toutes les N secondes (0 : à chaque pas)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="210"/>
        <source>Align the target&apos;s statistics to the model&apos;s</source>
        <translation>Aligner les statistiques de la cible sur celles du modèle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="270"/>
        <source>Adaptation curves (PNG)</source>
        <translation>Courbes d'adaptation (PNG)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="110"/>
        <source>Automatic (GPU if available)</source>
        <translation>Automatique (GPU si disponible)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="111"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="112"/>
        <source>CUDA GPU</source>
        <translation>GPU CUDA</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="211"/>
        <source>None</source>
        <translation>Aucune</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="212"/>
        <source>Mean and standard deviation</source>
        <translation>Moyenne et écart type</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="213"/>
        <source>Histogram matching</source>
        <translation>Appariement d'histogrammes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="271"/>
        <source>Trust report: what the adaptation changed (HTML)</source>
        <translation>Rapport de confiance : ce que l'adaptation a changé (HTML)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="272"/>
        <source>Agreement of the source and adapted maps (unchanged / changed)</source>
        <translation>Accord des cartes source et adaptée (inchangé / changé)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="273"/>
        <source>Share of pixels that changed class</source>
        <translation>Part des pixels ayant changé de classe</translation>
    </message>
</context>
<context>
    <name>CropsDock</name>
    <message>
        <location filename="../crops_qgis/dock.py" line="51"/>
        <source>CROPS crop mapping</source>
        <translation>CROPS cartographie des cultures</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="62"/>
        <source>CROPS model (*.safetensors)</source>
        <translation>Modèle CROPS (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="63"/>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="66"/>
        <source>Composite</source>
        <translation>Composite</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="70"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="73"/>
        <source>Draw area</source>
        <translation>Dessiner une zone</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="124"/>
        <source>Whole composite</source>
        <translation>Composite entier</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="85"/>
        <source>Run</source>
        <translation>Exécuter</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="87"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="139"/>
        <source>Choose the composite raster to map.</source>
        <translation>Choisissez le raster composite à cartographier.</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="141"/>
        <source>Choose a CROPS model file (.safetensors).</source>
        <translation>Choisissez un fichier de modèle CROPS (.safetensors).</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="149"/>
        <source>Mapping crop classes</source>
        <translation>Cartographie des classes de cultures</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="150"/>
        <source>Crop classes</source>
        <translation>Classes de cultures</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="150"/>
        <source>Confidence</source>
        <translation>Confiance</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="164"/>
        <source>Started: {name}</source>
        <translation>Démarré : {name}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="181"/>
        <source>Failed: {error}</source>
        <translation>Échec : {error}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="185"/>
        <source>Done: {n} layers added to &apos;{group}&apos;</source>
        <translation>Terminé : {n} couches ajoutées à '{group}'</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="114"/>
        <source>Drawn area: {w} x {h} ({ha:,.1f} ha)</source>
        <translation>Zone dessinée : {w} x {h} ({ha:,.1f} ha)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="177"/>
        <source>Cancelled: {name}; nothing was added.</source>
        <translation>Annulé : {name} ; rien n'a été ajouté.</translation>
    </message>
</context>
<context>
    <name>CropsPlugin</name>
    <message>
        <location filename="../crops_qgis/plugin.py" line="35"/>
        <source>CROPS crop mapping</source>
        <translation>CROPS cartographie des cultures</translation>
    </message>
    <message>
        <location filename="../crops_qgis/plugin.py" line="40"/>
        <source>CROPS engine environment…</source>
        <translation>Environnement du moteur CROPS…</translation>
    </message>
</context>
<context>
    <name>CropsProvider</name>
    <message>
        <location filename="../crops_qgis/provider.py" line="33"/>
        <source>CROPS crop-type mapping (source-free domain adaptation)</source>
        <translation>CROPS cartographie des types de cultures (adaptation de domaine sans données source)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/provider.py" line="45"/>
        <source>Engine Python (interpreter with torch, timm, h5py, safetensors)</source>
        <translation>Python du moteur (interpréteur avec torch, timm, h5py, safetensors)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/provider.py" line="56"/>
        <source>Processes per run (more than 1: through torchrun, one process per GPU)</source>
        <translation>Processus par exécution (plus de 1 : via torchrun, un processus par GPU)</translation>
    </message>
</context>
<context>
    <name>DiagnosticsAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="5"/>
        <source>Diagnostics</source>
        <translation>Diagnostic</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="6"/>
        <source>Reports the engine Python in use and the versions of QGIS, GDAL, Python, torch, timm, h5py and numpy, whether CUDA is available and which devices were found.

Report: an HTML (.html) or text (.txt) file.

Run it first when setting CROPS up, and attach the report to bug reports.</source>
        <translation>Indique le Python du moteur utilisé et les versions de QGIS, GDAL, Python, torch, timm, h5py et numpy, si CUDA est disponible et quels périphériques ont été trouvés.

Rapport : un fichier HTML (.html) ou texte (.txt).

Lancez-le en premier lors de l'installation de CROPS et joignez le rapport à vos rapports de bogue.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="7"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="8"/>
        <source>HTML files (*.html);;Text files (*.txt)</source>
        <translation>Fichiers HTML (*.html);;Fichiers texte (*.txt)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="9"/>
        <source>CUDA available</source>
        <translation>CUDA disponible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="10"/>
        <source>Devices</source>
        <translation>Périphériques</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="11"/>
        <source>Engine Python</source>
        <translation>Python du moteur</translation>
    </message>
</context>
<context>
    <name>EnginePython</name>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="28"/>
        <source>environment variable {name}</source>
        <translation>variable d'environnement {name}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="29"/>
        <source>Processing setting &apos;CROPS &gt; Engine Python&apos;</source>
        <translation>paramètre Processing 'CROPS &gt; Engine Python'</translation>
    </message>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="30"/>
        <source>the plugin&apos;s .venv</source>
        <translation>le .venv de l'extension</translation>
    </message>
    <message>
        <location filename="../crops_qgis/engine_python.py" line="31"/>
        <source>the managed environment</source>
        <translation>l'environnement géré</translation>
    </message>
</context>
<context>
    <name>EnvironmentDialog</name>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="39"/>
        <source>CROPS engine environment</source>
        <translation>Environnement du moteur CROPS</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="44"/>
        <source>Engine Python</source>
        <translation>Python du moteur</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="46"/>
        <source>Search order</source>
        <translation>Ordre de recherche</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="52"/>
        <source>NVIDIA driver {v}</source>
        <translation>Pilote NVIDIA {v}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="52"/>
        <source>no NVIDIA GPU found</source>
        <translation>aucun GPU NVIDIA trouvé</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="53"/>
        <source>torch build ({detected})</source>
        <translation>Variante de torch ({detected})</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="56"/>
        <source>Create managed environment</source>
        <translation>Créer un environnement géré</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="58"/>
        <source>Run diagnostics</source>
        <translation>Lancer le diagnostic</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="91"/>
        <source>Creating {venv} (torch build {b})</source>
        <translation>Création de {venv} (variante de torch {b})</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="97"/>
        <source>Failed: {e}</source>
        <translation>Échec : {e}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="106"/>
        <source>Environment ready: {p}</source>
        <translation>Environnement prêt : {p}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="111"/>
        <source>CROPS diagnostics</source>
        <translation>Diagnostic CROPS</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="122"/>
        <source>Diagnostics failed: {e}</source>
        <translation>Échec du diagnostic : {e}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="125"/>
        <source>Engine {python}: torch {torch}, devices: {devices}</source>
        <translation>Moteur {python} : torch {torch}, périphériques : {devices}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="79"/>
        <source>{n}. {source}: {path}</source>
        <translation>{n}. {source} : {path}</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="80"/>
        <source>(in use)</source>
        <translation>(utilisé)</translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="82"/>
        <source>None of these has torch: create the managed environment or choose a Python.</source>
        <translation>Aucun n'a torch : créez l'environnement géré ou choisissez un Python.</translation>
    </message>
</context>
<context>
    <name>EvaluateAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="351"/>
        <source>Evaluate class map</source>
        <translation>Évaluer la carte des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="353"/>
        <source>Class map</source>
        <translation>Carte des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="354"/>
        <source>Reference labels (raster or polygons)</source>
        <translation>Étiquettes de référence (raster ou polygones)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="355"/>
        <source>Label field (polygons)</source>
        <translation>Champ d'étiquette (polygones)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="356"/>
        <source>Class map (codes to classes)</source>
        <translation>Correspondance des classes (codes vers classes)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="359"/>
        <source>Model (names the class map&apos;s values)</source>
        <translation>Modèle (nomme les valeurs de la carte des classes)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="360"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="361"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="362"/>
        <source>Metrics (JSON)</source>
        <translation>Métriques (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="363"/>
        <source>JSON files (*.json)</source>
        <translation>Fichiers JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="364"/>
        <source>Overall accuracy</source>
        <translation>Précision globale</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="365"/>
        <source>Mean IoU</source>
        <translation>IoU moyenne</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="366"/>
        <source>Mean F1</source>
        <translation>F1 moyen</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="367"/>
        <source>Kappa</source>
        <translation>Kappa</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="368"/>
        <source>Pixels evaluated</source>
        <translation>Pixels évalués</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="357"/>
        <source>CRS of a reference that has none</source>
        <translation>SCR d'une référence qui n'en a pas</translation>
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
        <translation>Compare une carte des classes (p. ex. la sortie de crops:infer) à des étiquettes de référence et indique la précision globale, le kappa de Cohen et, par classe, l'IoU, le F1, la précision et le rappel, avec la matrice de confusion.

Référence : un raster de codes d'étiquettes, ou des polygones avec un champ d'étiquette (n'importe quel SCR : reprojeté), ramené sur la grille de la carte des classes. Correspondance des classes : codes vers classes, p. ex. '1200=maize; *=other; 0=ignore' ; vide : la correspondance utilisée pour l'entraînement du modèle lorsque le modèle est connu, sinon les valeurs des étiquettes sont les classes (noms tirés d'un classes.csv placé à côté des étiquettes).
Les valeurs de la carte des classes sont nommées par le Modèle s'il est fourni, sinon par le modèle enregistré dans la carte des classes, ses noms de catégories ou son style .qml. Les classes de référence sont associées aux classes de la carte par nom, puis par code ; une classe de référence inconnue de la carte compte comme jamais prédite.
Seuls comptent les pixels où la référence a une classe et où la carte des classes n'est pas NoData.
Les polygones sont aussi évalués par parcelle : la classe majoritaire de chaque parcelle (de ses pixels évalués) contre sa classe de référence, avec la matrice de confusion des parcelles et chaque parcelle dans le JSON.
La référence est un échantillon probabiliste : cochez-le quand la référence a été tirée au hasard (aléatoire simple, ou aléatoire stratifié avec les classes de la carte comme strates), et non là où se trouvaient des étiquettes. Le rapport ajoute alors les estimations ajustées des surfaces d'Olofsson et al. (2014) : la surface de chaque classe avec son intervalle de confiance à 95 %, les exactitudes utilisateur et producteur et l'exactitude globale pondérées par les parts de surface cartographiées. Les unités d'échantillonnage sont les pixels de la référence, ou ses parcelles pour des polygones.

Sorties : un rapport HTML (images, surfaces par classe) et les mêmes chiffres en JSON.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="358"/>
        <source>Reference is a probability sample (area-adjusted estimates)</source>
        <translation>La référence est un échantillon probabiliste (estimations ajustées des surfaces)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="369"/>
        <source>Overall accuracy of the fields (polygon reference)</source>
        <translation>Exactitude globale des parcelles (référence polygones)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="370"/>
        <source>Area-adjusted overall accuracy (probability sample)</source>
        <translation>Exactitude globale ajustée des surfaces (échantillon probabiliste)</translation>
    </message>
</context>
<context>
    <name>ExportAgrifmAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="90"/>
        <source>Export AgriFM samples</source>
        <translation>Exporter des échantillons AgriFM</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="91"/>
        <source>Writes every block of a labelled block store (Build blocks, Build time-series blocks, Import AgriFM samples) as an AgriFM sample: one HDF5 file per block with one dataset per source (T, C, H, W) and the class codes (H, W) in `label` (0 where unlabelled, or 255 when 0 is a class&apos;s code: the `ignore_code` attribute says which), and data_lists/train.txt and val.txt from the store&apos;s splits.

A store imported from AgriFM keeps its sources and sample names; another store is one source, named by Source (a composite&apos;s store: one step of all its bands).</source>
        <translation>Écrit chaque bloc d'un stock de blocs étiqueté (Construire les blocs, Construire des blocs de séries temporelles, Importer des échantillons AgriFM) comme un échantillon AgriFM : un fichier HDF5 par bloc avec un jeu de données par source (T, C, H, W) et les codes de classe (H, W) dans `label` (0 là où il n'y a pas d'étiquette, ou 255 quand 0 est le code d'une classe : l'attribut `ignore_code` dit lequel), ainsi que data_lists/train.txt et val.txt d'après les partages du stock.

Un stock importé d'AgriFM garde ses sources et les noms de ses échantillons ; un autre stock est une seule source, nommée par Source (le stock d'un composite : un pas de toutes ses bandes).</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="92"/>
        <source>Labelled block store</source>
        <translation>Stock de blocs étiqueté</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="93"/>
        <source>Source name (stores without sources)</source>
        <translation>Nom de la source (stocks sans sources)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="94"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="95"/>
        <source>Samples written</source>
        <translation>Échantillons écrits</translation>
    </message>
</context>
<context>
    <name>FieldClassesAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="371"/>
        <source>Crop per field</source>
        <translation>Culture par parcelle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="372"/>
        <source>Gives every field (a parcel polygon, any CRS) the crop the class map shows in it, and writes the fields as a GeoPackage styled by crop with the map&apos;s colours.

Rule: majority (the class with the most pixels whose centre lies in the field) or mean_probability (the class with the highest mean probability; needs Class probabilities from Map crops). Each field gets class_value, class_name, class_share (the winning class&apos;s share of the field&apos;s pixels), confidence (the mean of the Confidence raster, or the winning class&apos;s mean probability), pixels and area_ha (in the map&apos;s CRS, or an equal-area CRS when the map is in degrees), beside its own attributes. Fields with no mapped pixel keep an empty class.
The log lists the hectares per crop, in fields and on the whole map. Model: the checkpoint that made the class map, when the map does not name its classes itself.</source>
        <translation>Attribue à chaque parcelle (un polygone, tout SCR) la culture que la carte des classes y montre, et écrit les parcelles dans un GeoPackage symbolisé par culture avec les couleurs de la carte.

Règle : majority (la classe ayant le plus de pixels dont le centre est dans la parcelle) ou mean_probability (la classe de plus forte probabilité moyenne ; nécessite les probabilités des classes de Cartographier les cultures). Chaque parcelle reçoit class_value, class_name, class_share (la part des pixels de la parcelle tenue par la classe gagnante), confidence (la moyenne du raster de confiance, ou la probabilité moyenne de la classe gagnante), pixels et area_ha (dans le SCR de la carte, ou dans un SCR équivalent quand la carte est en degrés), à côté de ses propres attributs. Les parcelles sans pixel cartographié gardent une classe vide.
Le journal indique les hectares par culture, dans les parcelles et sur toute la carte. Modèle : le point de contrôle qui a produit la carte, quand la carte ne nomme pas elle-même ses classes.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="373"/>
        <source>Fields (parcel polygons)</source>
        <translation>Parcelles (polygones)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="374"/>
        <source>Class map</source>
        <translation>Carte des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="375"/>
        <source>Class of a field</source>
        <translation>Classe d'une parcelle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="378"/>
        <source>Confidence (optional)</source>
        <translation>Confiance (facultatif)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="379"/>
        <source>Class probabilities (optional)</source>
        <translation>Probabilités des classes (facultatif)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="380"/>
        <source>Model (names the class map&apos;s values)</source>
        <translation>Modèle (nomme les valeurs de la carte des classes)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="381"/>
        <source>Fields with their crop</source>
        <translation>Parcelles avec leur culture</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="382"/>
        <source>Fields</source>
        <translation>Parcelles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="383"/>
        <source>Fields without a mapped pixel</source>
        <translation>Parcelles sans pixel cartographié</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="376"/>
        <source>Majority of its pixels</source>
        <translation>Majorité de ses pixels</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="377"/>
        <source>Highest mean probability</source>
        <translation>Plus forte probabilité moyenne</translation>
    </message>
</context>
<context>
    <name>ImportAgrifmAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="80"/>
        <source>Import AgriFM samples</source>
        <translation>Importer des échantillons AgriFM</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="81"/>
        <source>Reads samples in the AgriFM layout: one HDF5 file per sample holding one dataset per source (T, C, H, W), e.g. S2, and the labels (H, W) in `label`; the files data_lists/train.txt, val.txt (and test.txt) name the samples of each split (without them every sample is for training). Each sample becomes one block of a block store that Train source model, Partition and the adaptation commands read like one from Build time-series blocks.

Sources: the datasets to read, e.g. S2, or S2;S1 for two sensors (empty: S2, else every source of the first file). Every source must have the label&apos;s height and width. One source gives the features t01:B02 ... (steps x bands, as Build time-series blocks); several give S2:t01:B02 ... S1:t01:VV, source after source, and the model trained on them needs the same sources. Labels are class codes: the class map maps them to classes as for Build blocks (empty: the classes Export AgriFM samples wrote in the files, else every code is a class and 0 is ignore). AgriFM files record no dates: a source&apos;s `dates` attribute gives them when present, else the steps are nominal, Step days apart from the Start date.</source>
        <translation>Lit des échantillons au format AgriFM : un fichier HDF5 par échantillon contenant un jeu de données par source (T, C, H, W), p. ex. S2, et les étiquettes (H, W) dans `label` ; les fichiers data_lists/train.txt, val.txt (et test.txt) nomment les échantillons de chaque partage (sans eux, tout échantillon sert à l'entraînement). Chaque échantillon devient un bloc d'un stock de blocs que Entraîner le modèle source, Partitionner et les commandes d'adaptation lisent comme un stock de Construire des blocs de séries temporelles.

Sources : les jeux de données à lire, p. ex. S2, ou S2;S1 pour deux capteurs (vide : S2, sinon toutes les sources du premier fichier). Chaque source doit avoir la hauteur et la largeur de l'étiquette. Une source donne les variables t01:B02 ... (pas x bandes, comme Construire des blocs de séries temporelles) ; plusieurs donnent S2:t01:B02 ... S1:t01:VV, source après source, et le modèle entraîné dessus a besoin des mêmes sources. Les étiquettes sont des codes de classe : la correspondance des classes les associe aux classes comme pour Construire les blocs (vide : les classes qu'Exporter des échantillons AgriFM a écrites dans les fichiers, sinon chaque code est une classe et 0 est ignoré). Les fichiers AgriFM n'enregistrent pas de dates : l'attribut `dates` d'une source les donne s'il existe, sinon les pas sont nominaux, espacés de Pas (jours) à partir de la Date de début.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="82"/>
        <source>Folder of AgriFM samples</source>
        <translation>Dossier d'échantillons AgriFM</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="83"/>
        <source>Sources</source>
        <translation>Sources</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="84"/>
        <source>Class map (codes to classes)</source>
        <translation>Correspondance des classes (codes vers classes)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="85"/>
        <source>Step (days, when the files have no dates)</source>
        <translation>Pas (jours, quand les fichiers n'ont pas de dates)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="86"/>
        <source>Start date (YYYY-MM-DD, when the files have no dates)</source>
        <translation>Date de début (YYYY-MM-DD, quand les fichiers n'ont pas de dates)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="87"/>
        <source>Blocks written</source>
        <translation>Blocs écrits</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="88"/>
        <source>Training blocks</source>
        <translation>Blocs d'entraînement</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="89"/>
        <source>Validation blocks</source>
        <translation>Blocs de validation</translation>
    </message>
</context>
<context>
    <name>ImportWeightsAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="139"/>
        <source>Import encoder weights (AgriFM)</source>
        <translation>Importer des poids d'encodeur (AgriFM)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="140"/>
        <source>Converts encoder weights you hold locally (e.g. AgriFM&apos;s released .pth checkpoint) once into a .safetensors encoder for the agrifm architecture; give it to Train source model as Pretrained encoder weights with Architecture agrifm. Nothing is downloaded.

Reading: the file is read with torch&apos;s weights-only loader (tensors and plain containers only); a file that needs full unpickling is refused: load it yourself where you trust it and re-save its state_dict. Training containers (state_dict, model) and prefixes (module., backbone., encoders.S2. ...) are unwrapped: each tensor of the agrifm encoder takes the one tensor whose name ends with its name, shape-checked. Prefix picks one encoder where a file holds several.
Encoder arguments (embed_dim, depths, num_heads, patch_size, window_size, bands) are read off the file; Architecture arguments overrides them.

Output: the .safetensors encoder (its header records the arguments it fits) and name.import.json beside it: every tensor mapped (encoder name: file name), the encoder tensors missing (left random in training) and the file&apos;s tensors unused.</source>
        <translation>Convertit une fois des poids d'encodeur que vous détenez localement (p. ex. le checkpoint .pth publié d'AgriFM) en un encodeur .safetensors pour l'architecture agrifm ; donnez-le à Entraîner le modèle source comme poids d'encodeur pré-entraînés avec l'architecture agrifm. Rien n'est téléchargé.

Lecture : le fichier est lu avec le chargeur « poids seulement » de torch (tenseurs et conteneurs simples uniquement) ; un fichier qui demande un dépicklage complet est refusé : chargez-le vous-même là où vous lui faites confiance et ré-enregistrez son state_dict. Les conteneurs d'entraînement (state_dict, model) et les préfixes (module., backbone., encoders.S2. ...) sont retirés : chaque tenseur de l'encodeur agrifm prend l'unique tenseur dont le nom se termine par son nom, forme vérifiée. Préfixe choisit un encodeur là où un fichier en contient plusieurs.
Les arguments de l'encodeur (embed_dim, depths, num_heads, patch_size, window_size, bands) sont lus dans le fichier ; Arguments de l'architecture les remplace.

Sortie : l'encodeur .safetensors (son en-tête indique les arguments auxquels il correspond) et name.import.json à côté : chaque tenseur associé (nom dans l'encodeur : nom dans le fichier), les tenseurs de l'encodeur manquants (laissés aléatoires à l'entraînement) et les tenseurs inutilisés du fichier.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="141"/>
        <source>Weights file (.pth / .safetensors)</source>
        <translation>Fichier de poids (.pth / .safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="142"/>
        <source>Prefix (empty: any)</source>
        <translation>Préfixe (vide : quelconque)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="143"/>
        <source>Architecture arguments (JSON; empty: from the file)</source>
        <translation>Arguments de l'architecture (JSON ; vide : d'après le fichier)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="144"/>
        <source>Encoder weights</source>
        <translation>Poids de l'encodeur</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="145"/>
        <source>Encoder (*.safetensors)</source>
        <translation>Encodeur (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="146"/>
        <source>Tensors mapped</source>
        <translation>Tenseurs associés</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="147"/>
        <source>Encoder tensors missing</source>
        <translation>Tenseurs de l'encodeur manquants</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="148"/>
        <source>File tensors unused</source>
        <translation>Tenseurs du fichier inutilisés</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="149"/>
        <source>Mapping report (JSON)</source>
        <translation>Rapport d'association (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="150"/>
        <source>Encoder arguments</source>
        <translation>Arguments de l'encodeur</translation>
    </message>
</context>
<context>
    <name>InferAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="323"/>
        <source>Map crops (inference)</source>
        <translation>Cartographier les cultures (inférence)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="324"/>
        <source>Runs a model (from Train source model or an adaptation) over a composite and writes the class map, coloured and labelled with the model&apos;s classes.

Composite: a raster with exactly the features the model was trained on (same bands, same order; Extra bands as used for training, PATH or PATH@BANDS separated by &apos;;&apos;). A clear error lists missing or extra features.
Extent and/or Area of interest (polygons, any CRS) limit the map; pixels outside the polygons and pixels with nodata in any feature are nodata.
The raster is processed in overlapping tiles blended with a smooth window, so no seams show, and streamed to disk: memory does not grow with the raster&apos;s height. Tile size: 0 = the model&apos;s block size rounded up to a multiple of the model&apos;s stride. Overlap in pixels: -1 = a quarter of the tile. Batch size: 0 = 4 on CPU, sized to the free memory on a GPU (halved automatically if it runs out). Device: auto uses a CUDA GPU when the engine&apos;s torch has one; mixed precision on CUDA.

Outputs: class map (Byte, 255 = nodata) and optionally the confidence (the winning class&apos;s probability), the normalised entropy (0 certain .. 1 undecided) and the probabilities (one band per class), Float32 with -1 = nodata. All are tiled, compressed GeoTIFFs with overviews and a .qml style.</source>
        <translation>Applique un modèle (issu de Entraîner le modèle source ou d'une adaptation) à un composite et écrit la carte des classes, colorée et légendée avec les classes du modèle.

Composite : un raster avec exactement les variables sur lesquelles le modèle a été entraîné (mêmes bandes, même ordre ; Bandes supplémentaires comme à l'entraînement, PATH ou PATH@BANDS séparés par ';'). Une erreur explicite liste les variables manquantes ou en trop.
L'emprise et/ou la zone d'intérêt (polygones, n'importe quel SCR) limitent la carte ; les pixels hors des polygones et les pixels NoData dans l'une des variables sont NoData.
Le raster est traité par tuiles qui se chevauchent, fondues avec une fenêtre lisse pour qu'aucune couture ne soit visible, et écrit au fil de l'eau sur le disque : la mémoire ne croît pas avec la hauteur du raster. Taille des tuiles : 0 = la taille de bloc du modèle arrondie au multiple supérieur du pas (stride) du modèle. Chevauchement en pixels : -1 = un quart de la tuile. Taille de lot : 0 = 4 sur CPU, ajustée à la mémoire libre sur un GPU (divisée par deux automatiquement si elle manque). Périphérique : auto utilise un GPU CUDA lorsque le torch du moteur en prend un en charge ; précision mixte sur CUDA.

Sorties : carte des classes (Byte, 255 = NoData) et, en option, la confiance (probabilité de la classe retenue), l'entropie normalisée (0 certain .. 1 indécis) et les probabilités (une bande par classe), en Float32 avec -1 = NoData. Tous sont des GeoTIFF tuilés et compressés, avec pyramides et un style .qml.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="325"/>
        <source>Model (.safetensors)</source>
        <translation>Modèle (.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="326"/>
        <source>Composite</source>
        <translation>Composite</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="327"/>
        <source>Extent</source>
        <translation>Emprise</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="328"/>
        <source>Area of interest (polygons)</source>
        <translation>Zone d'intérêt (polygones)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="329"/>
        <source>Extra bands (PATH or PATH@BANDS; &apos;;&apos; separated)</source>
        <translation>Bandes supplémentaires (PATH ou PATH@BANDS ; séparées par ';')</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="330"/>
        <source>Tile size (pixels; 0: automatic)</source>
        <translation>Taille des tuiles (pixels ; 0 : automatique)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="331"/>
        <source>Overlap (pixels; -1: a quarter of the tile)</source>
        <translation>Chevauchement (pixels ; -1 : un quart de la tuile)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="332"/>
        <source>Batch size (tiles; 0: automatic)</source>
        <translation>Taille de lot (tuiles ; 0 : automatique)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="333"/>
        <source>Class map</source>
        <translation>Carte des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="334"/>
        <source>Confidence</source>
        <translation>Confiance</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="335"/>
        <source>Entropy</source>
        <translation>Entropie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="336"/>
        <source>Class probabilities</source>
        <translation>Probabilités des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="337"/>
        <source>Mapped pixels</source>
        <translation>Pixels cartographiés</translation>
    </message>
</context>
<context>
    <name>InferSeriesAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="338"/>
        <source>Map crops from a time series (inference)</source>
        <translation>Cartographier les cultures à partir d'une série temporelle (inférence)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="339"/>
        <source>Runs a model trained on a time series (Build time-series blocks, then Train source model, e.g. with the U-TAE architecture, or an adaptation of it) over the scenes and writes the class map.

Scenes, cloud mask, bands, Start / End date and Step days: as for Build time-series blocks. The series must have as many steps and the same bands as the model&apos;s (a clear error says otherwise): for a map in season, an earlier End date with a model trained on as many steps.
Each overlapping tile is composited from the scenes step by step (the max-NDVI of each step, gaps interpolated in time) and blended with a smooth window as Map crops does, so memory does not grow with the raster&apos;s height or the number of scenes. Tile size, overlap, batch size, device: as for Map crops.

Outputs: class map (Byte, 255 = nodata) and optionally the confidence, the normalised entropy and the probabilities, as Map crops writes them.</source>
        <translation>Applique aux scènes un modèle entraîné sur une série temporelle (Construire des blocs de séries temporelles, puis Entraîner le modèle source, par exemple avec l'architecture U-TAE, ou une adaptation de celui-ci) et écrit la carte des classes.

Scènes, masque de nuages, bandes, date de début / fin et Pas en jours : comme pour Construire des blocs de séries temporelles. La série doit avoir autant de pas et les mêmes bandes que celle du modèle (une erreur claire dit sinon la différence) : pour une carte en cours de saison, une date de fin plus précoce avec un modèle entraîné sur autant de pas.
Chaque tuile chevauchante est composée à partir des scènes pas par pas (le NDVI maximal de chaque pas, lacunes interpolées dans le temps) et fondue avec une fenêtre lisse comme le fait Cartographier les cultures, de sorte que la mémoire ne croît ni avec la hauteur du raster ni avec le nombre de scènes. Taille des tuiles, chevauchement, taille de lot, appareil : comme pour Cartographier les cultures.

Sorties : carte des classes (Byte, 255 = nodata) et, en option, la confiance, l'entropie normalisée et les probabilités, comme les écrit Cartographier les cultures.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="340"/>
        <source>Model (.safetensors)</source>
        <translation>Modèle (.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="341"/>
        <source>Extent</source>
        <translation>Emprise</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="342"/>
        <source>Tile size (pixels; 0: automatic)</source>
        <translation>Taille des tuiles (pixels ; 0 : automatique)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="343"/>
        <source>Overlap (pixels; -1: a quarter of the tile)</source>
        <translation>Chevauchement (pixels ; -1 : un quart de la tuile)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="344"/>
        <source>Batch size (tiles; 0: automatic)</source>
        <translation>Taille de lot (tuiles ; 0 : automatique)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="345"/>
        <source>Class map</source>
        <translation>Carte des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="346"/>
        <source>Confidence</source>
        <translation>Confiance</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="347"/>
        <source>Entropy</source>
        <translation>Entropie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="348"/>
        <source>Class probabilities</source>
        <translation>Probabilités des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="349"/>
        <source>Mapped pixels</source>
        <translation>Pixels cartographiés</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="350"/>
        <source>Time steps</source>
        <translation>Pas de temps</translation>
    </message>
</context>
<context>
    <name>NdviQmAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="26"/>
        <source>NDVI quality mosaic</source>
        <translation>Mosaïque de qualité NDVI</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="28"/>
        <source>Scenes</source>
        <translation>Scènes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="29"/>
        <source>Folder of scenes</source>
        <translation>Dossier des scènes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="30"/>
        <source>File-name pattern</source>
        <translation>Motif de nom de fichier</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="31"/>
        <source>Mask suffix (empty: no mask)</source>
        <translation>Suffixe du masque (vide : pas de masque)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="32"/>
        <source>Mask band of the scene (instead of mask files)</source>
        <translation>Bande de masque de la scène (au lieu de fichiers de masque)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="33"/>
        <source>Invalid mask classes</source>
        <translation>Classes de masque invalides</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="36"/>
        <source>Scale (DN to reflectance)</source>
        <translation>Échelle (DN vers réflectance)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="37"/>
        <source>Offset (empty: from BOA_ADD_OFFSET metadata)</source>
        <translation>Décalage (vide : depuis la métadonnée BOA_ADD_OFFSET)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="38"/>
        <source>Start date (YYYY-MM-DD)</source>
        <translation>Date de début (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="39"/>
        <source>End date (YYYY-MM-DD)</source>
        <translation>Date de fin (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="40"/>
        <source>Extent</source>
        <translation>Emprise</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="41"/>
        <source>Area of interest (polygons)</source>
        <translation>Zone d'intérêt (polygones)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="42"/>
        <source>Target CRS (default: the first scene&apos;s)</source>
        <translation>SCR cible (par défaut : celui de la première scène)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="43"/>
        <source>Resolution (CRS units)</source>
        <translation>Résolution (unités du SCR)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="44"/>
        <source>Resampling of scenes on another grid</source>
        <translation>Rééchantillonnage des scènes sur une autre grille</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="51"/>
        <source>QA (max NDVI, day of year, clear observations)</source>
        <translation>QA (NDVI max., jour de l'année, observations dégagées)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="50"/>
        <source>Threads compositing windows</source>
        <translation>Threads de calcul des fenêtres de la mosaïque</translation>
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
        <translation>Pour chaque pixel, prend toutes les bandes de l'acquisition dégagée ayant le NDVI le plus élevé dans la fenêtre de dates (qualityMosaic('NDVI') d'Earth Engine), de sorte que chaque parcelle apparaisse à son pic. La première étape de l'adaptation de domaine : construire un composite pour la source et un pour la cible.

Scènes : des couches raster ou des fichiers, et/ou un dossier avec un motif de nom de fichier ; un raster multibande par date, daté par sa métadonnée ACQUISITION_DATE ou par un YYYYMMDD dans le nom du fichier.
Masque de nuages : un raster compagnon nommé comme la scène suivi du suffixe du masque (Sen2Cor _SCL par défaut ; vide pour aucun masque), ou une bande de masque de la scène ; les pixels des classes invalides (par défaut SCL 0,1,3,8,9,10) et les pixels NoData dans la bande rouge ou PIR ne sont pas dégagés.
Bande rouge / PIR : un numéro à partir de 1 (3 et 7 pour l'ordre B02 B03 B04 B05 B06 B07 B08 B8A B11 B12) ou un nom de bande, c.-à-d. la description de la bande (B04, B8A ; les produits Sentinel-2 sont nommés ainsi) ; un nom inconnu liste les bandes de la scène. Réflectance = CN x Échelle + Décalage ; laissez le décalage vide pour lire la métadonnée BOA_ADD_OFFSET (Sentinel-2 baseline 04.00+ : -1000 CN, soit -0.1).
En cas d'égalité, la date la plus ancienne l'emporte ; les pixels sans observation dégagée sont NoData.
Emprise / Zone d'intérêt : limitent le traitement et la sortie (les pixels hors des polygones sont NoData). Les scènes sur une autre grille sont reprojetées sur la grille de la première scène, ou selon le SCR cible / la Résolution.

Sorties : le composite (type de données et noms de bandes de l'entrée, style en couleurs naturelles) et un raster QA facultatif : NDVI max., jour de l'année de la date retenue, nombre d'observations dégagées.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="34"/>
        <source>Red band (number or name, e.g. B04)</source>
        <translation>Bande rouge (numéro ou nom, p. ex. B04)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="35"/>
        <source>NIR band (number or name, e.g. B08 or B8A)</source>
        <translation>Bande PIR (numéro ou nom, p. ex. B08 ou B8A)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="45"/>
        <source>Nearest neighbour</source>
        <translation>Plus proche voisin</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="46"/>
        <source>Bilinear</source>
        <translation>Bilinéaire</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="47"/>
        <source>Cubic</source>
        <translation>Cubique</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="48"/>
        <source>Average</source>
        <translation>Moyenne</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="49"/>
        <source>Mode (most frequent value)</source>
        <translation>Mode (valeur la plus fréquente)</translation>
    </message>
</context>
<context>
    <name>PartitionAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="192"/>
        <source>Partition easy / hard</source>
        <translation>Partition faciles / difficiles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="194"/>
        <source>Source model</source>
        <translation>Modèle source</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="195"/>
        <source>Target block store</source>
        <translation>Stock de blocs cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="196"/>
        <source>or target composite</source>
        <translation>ou composite cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="197"/>
        <source>Score</source>
        <translation>Score</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="201"/>
        <source>Easy fraction</source>
        <translation>Fraction de blocs faciles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="202"/>
        <source>Score threshold (overrides easy fraction)</source>
        <translation>Seuil de score (remplace la fraction de blocs faciles)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="203"/>
        <source>Split per predicted dominant class</source>
        <translation>Répartition par classe dominante prédite</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="204"/>
        <source>Confidence threshold (confident_fraction)</source>
        <translation>Seuil de confiance (confident_fraction)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="205"/>
        <source>Extra bands with a composite (&apos;;&apos; separated)</source>
        <translation>Bandes supplémentaires avec un composite (séparées par ';')</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="206"/>
        <source>Block size with a composite (0: the model&apos;s)</source>
        <translation>Taille des blocs avec un composite (0 : celle du modèle)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="207"/>
        <source>Stride with a composite (0: block size)</source>
        <translation>Pas de découpage avec un composite (0 : taille des blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="208"/>
        <source>Extent with a composite</source>
        <translation>Emprise avec un composite</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="209"/>
        <source>Batch size (blocks)</source>
        <translation>Taille de lot (blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="214"/>
        <source>Output block store (with a composite)</source>
        <translation>Stock de blocs en sortie (avec un composite)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="215"/>
        <source>HDF5 files (*.h5)</source>
        <translation>Fichiers HDF5 (*.h5)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="216"/>
        <source>Easy / hard mask</source>
        <translation>Masque faciles / difficiles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="217"/>
        <source>Confidence</source>
        <translation>Confiance</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="218"/>
        <source>Easy blocks</source>
        <translation>Blocs faciles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="219"/>
        <source>Hard blocks</source>
        <translation>Blocs difficiles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="220"/>
        <source>Mean score of easy blocks</source>
        <translation>Score moyen des blocs faciles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="221"/>
        <source>Mean score of hard blocks</source>
        <translation>Score moyen des blocs difficiles</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="193"/>
        <source>Runs the source model over the target blocks and splits them into easy blocks (where it is confident) and hard blocks, so you see where the model is unsure before adapting it.

Target: a block store (Build blocks without labels; the partition is written beside it), or a target composite from which a store is built into Output block store (Block size 0: the model&apos;s).
Score per block, higher = easier: max_probability (mean probability of the predicted class over valid pixels), entropy (1 - mean normalised entropy) or confident_fraction (share of pixels whose probability reaches Confidence threshold).
Split: the Easy fraction of the blocks with the highest scores is easy, or, when Score threshold is set, the blocks scoring at least that. Per class splits within each predicted dominant class, so a rare class still has easy blocks.

Outputs: the easy / hard mask (1 easy in blue, 2 hard in red) and the per-pixel confidence (grey, 0..1). Where blocks overlap (stride &lt; block size), each pixel shows the block whose centre is nearest. The scores, the easy and hard blocks and the model&apos;s SHA-256 go into name.h5.partition.h5 beside the store (the store itself is not changed), which Adapt and SPCL read; SPCL refuses a partition made by another model.</source>
        <translation>Applique le modèle source aux blocs cibles et les répartit en blocs faciles (où il est sûr de lui) et blocs difficiles, pour voir où le modèle hésite avant de l'adapter.

Cible : un stock de blocs (issu de Construire les blocs sans étiquettes ; la partition est écrite à côté), ou un composite cible à partir duquel un stock est construit dans le Stock de blocs en sortie (Taille des blocs 0 : celle du modèle).
Score par bloc, plus élevé = plus facile : max_probability (probabilité moyenne de la classe prédite sur les pixels valides), entropy (1 - entropie normalisée moyenne) ou confident_fraction (proportion des pixels dont la probabilité atteint le Seuil de confiance).
Répartition : la Fraction de blocs faciles ayant les scores les plus élevés est facile, ou, si un Seuil de score est défini, les blocs dont le score l'atteint au moins. La répartition par classe s'effectue au sein de chaque classe dominante prédite, si bien qu'une classe rare a tout de même des blocs faciles.

Sorties : le masque faciles / difficiles (1 facile en bleu, 2 difficile en rouge) et la confiance par pixel (gris, 0..1). Là où des blocs se chevauchent (pas &lt; taille des blocs), chaque pixel montre le bloc dont le centre est le plus proche. Les scores, les blocs faciles et difficiles et le SHA-256 du modèle sont écrits dans name.h5.partition.h5 à côté du stock (le stock lui-même n'est pas modifié), que lisent Adapter et SPCL ; SPCL refuse une partition faite par un autre modèle.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="198"/>
        <source>Mean highest probability</source>
        <translation>Probabilité maximale moyenne</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="199"/>
        <source>Entropy</source>
        <translation>Entropie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="200"/>
        <source>Share of confident pixels</source>
        <translation>Part de pixels confiants</translation>
    </message>
</context>
<context>
    <name>PretrainAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="96"/>
        <source>Pretrain encoder (SimSiam)</source>
        <translation>Pré-entraîner l'encodeur (SimSiam)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="97"/>
        <source>Pretrains the encoder of a segmentation model without labels (SimSiam): every year and region you hold imagery of can teach it, labelled or not. Train the source model from it afterwards (Train source model, Pretrained encoder weights).

Inputs: composites (cut into blocks of Block size) and/or block stores (their labels are never read); all with the same features in the same order. They are normalised with their pooled statistics.
Method: two augmented views of each block (random resized crop, flips and 90-degree rotations, per-band brightness and contrast, blur, noise, band dropout, and spectral solarisation on the second view only); encoder, projection MLP and prediction MLP; symmetric negative cosine similarity with a stop-gradient on the target branch. SGD with momentum 0.9; the learning rate used is Learning rate x Batch size / 256, with warm-up then cosine decay. The spread of the normalised outputs is watched: a warning says when it falls toward 0 (collapse).
Evaluation (optional): with a labelled block store, a linear probe (encoder frozen) and a fine-tuned model are trained from the pretrained encoder and compared with a random initialisation on the store&apos;s validation blocks (IoU per class, mIoU).

Output: a .safetensors encoder that describes itself (encoder, features, normalisation, block size, provenance) and an HTML report (loss and learning rate, collapse statistic, augmented views, evaluation). Beside it: name.resume.safetensors. Resume: give that file (or the encoder) to continue; raise Iterations/Epochs to train longer. Cancel stops after the current step and keeps the last saved encoder.</source>
        <translation>Pré-entraîne l'encodeur d'un modèle de segmentation sans étiquettes (SimSiam) : chaque année et chaque région dont vous avez des images peut l'instruire, étiquetées ou non. Entraînez ensuite le modèle source à partir de lui (Entraîner le modèle source, Poids pré-entraînés de l'encodeur).

Entrées : des composites (découpés en blocs de la taille des blocs) et/ou des stocks de blocs (leurs étiquettes ne sont jamais lues) ; tous avec les mêmes variables dans le même ordre. Ils sont normalisés avec leurs statistiques communes.
Méthode : deux vues augmentées de chaque bloc (recadrage redimensionné aléatoire, retournements et rotations de 90 degrés, luminosité et contraste par bande, flou, bruit, suppression de bandes, et solarisation spectrale sur la seconde vue seulement) ; encodeur, MLP de projection et MLP de prédiction ; similarité cosinus négative symétrique avec arrêt du gradient sur la branche cible. SGD avec un momentum de 0,9 ; le taux d'apprentissage utilisé est Taux d'apprentissage x Taille de lot / 256, avec échauffement puis décroissance cosinus. La dispersion des sorties normalisées est surveillée : un avertissement signale quand elle tend vers 0 (effondrement).
Évaluation (facultative) : avec un stock de blocs étiqueté, une sonde linéaire (encodeur figé) et un modèle affiné sont entraînés à partir de l'encodeur pré-entraîné et comparés à une initialisation aléatoire sur les blocs de validation du stock (IoU par classe, mIoU).

Sortie : un encodeur .safetensors qui se décrit lui-même (encodeur, variables, normalisation, taille des blocs, provenance) et un rapport HTML (perte et taux d'apprentissage, indicateur d'effondrement, vues augmentées, évaluation). À côté : name.resume.safetensors. Reprise : donnez ce fichier (ou l'encodeur) pour poursuivre ; augmentez Itérations/Époques pour entraîner plus longtemps. Annuler arrête après le pas en cours et conserve le dernier encodeur enregistré.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="98"/>
        <source>Composites (unlabelled)</source>
        <translation>Composites (non étiquetés)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="99"/>
        <source>Block stores (&apos;;&apos; separated; labels ignored)</source>
        <translation>Stocks de blocs (séparés par ';' ; étiquettes ignorées)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="100"/>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="103"/>
        <source>Encoder (U-Net; empty: resnet18)</source>
        <translation>Encodeur (U-Net ; vide : resnet18)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="104"/>
        <source>Block size (0: the stores&apos;)</source>
        <translation>Taille des blocs (0 : celle des stocks)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="105"/>
        <source>Epochs</source>
        <translation>Époques</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="106"/>
        <source>Iterations (&gt; 0 overrides epochs)</source>
        <translation>Itérations (&gt; 0 remplace les époques)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="107"/>
        <source>Batch size (blocks)</source>
        <translation>Taille de lot (blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="108"/>
        <source>Learning rate (per 256 blocks)</source>
        <translation>Taux d'apprentissage (pour 256 blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="114"/>
        <source>Resume from (resume state or encoder)</source>
        <translation>Reprendre depuis (état de reprise ou encodeur)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="115"/>
        <source>Labelled block store for the evaluation (optional)</source>
        <translation>Stock de blocs étiqueté pour l'évaluation (facultatif)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="116"/>
        <source>Evaluation iterations</source>
        <translation>Itérations de l'évaluation</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="117"/>
        <source>Encoder LR scale when fine-tuning</source>
        <translation>Facteur du taux d'apprentissage de l'encodeur au réglage fin</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="118"/>
        <source>Projection width</source>
        <translation>Largeur de la projection</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="119"/>
        <source>Prediction bottleneck width</source>
        <translation>Largeur du goulot de la prédiction</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="120"/>
        <source>Architecture arguments (JSON)</source>
        <translation>Arguments de l'architecture (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="121"/>
        <source>Weight decay</source>
        <translation>Décroissance des poids (weight decay)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="128"/>
        <source>Pretrained encoder</source>
        <translation>Encodeur pré-entraîné</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="129"/>
        <source>Encoder (*.safetensors)</source>
        <translation>Encodeur (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="130"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="131"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="132"/>
        <source>Resume state</source>
        <translation>État de reprise</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="133"/>
        <source>Steps trained</source>
        <translation>Pas entraînés</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="134"/>
        <source>Final loss</source>
        <translation>Perte finale</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="135"/>
        <source>Output spread (collapse statistic)</source>
        <translation>Dispersion des sorties (indicateur d'effondrement)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="136"/>
        <source>Linear probe mIoU</source>
        <translation>mIoU de la sonde linéaire</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="137"/>
        <source>Fine-tuned mIoU</source>
        <translation>mIoU après réglage fin</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="138"/>
        <source>Random initialisation mIoU</source>
        <translation>mIoU avec initialisation aléatoire</translation>
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
        <translation>Répéter une exécution</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="385"/>
        <source>Repeats a run exactly as it was recorded: every CROPS step writes name.run.json beside its main output (the command, every parameter as resolved, the inputs&apos; sizes and times, versions, device).

Run record: that .run.json. Changes: NAME=VALUE items separated by &apos;;&apos; (e.g. SEED=3; OUTPUT=/data/map2019.tif), names as in the algorithm&apos;s parameters; a name the recorded command does not have is an error. A warning names every input whose size or time changed since the run was recorded. The repeated run writes its own .run.json.</source>
        <translation>Répète une exécution exactement comme elle a été enregistrée : chaque étape CROPS écrit nom.run.json à côté de sa sortie principale (la commande, chaque paramètre tel que résolu, la taille et la date des entrées, les versions, le périphérique).

Journal d'exécution : ce .run.json. Modifications : des entrées NOM=VALEUR séparées par ';' (p. ex. SEED=3; OUTPUT=/data/map2019.tif), noms comme les paramètres de l'algorithme ; un nom que la commande enregistrée n'a pas est une erreur. Un avertissement nomme chaque entrée dont la taille ou la date a changé depuis l'enregistrement. L'exécution répétée écrit son propre .run.json.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="386"/>
        <source>Run record (.run.json)</source>
        <translation>Journal d'exécution (.run.json)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="387"/>
        <source>Changes (NAME=VALUE; ...)</source>
        <translation>Modifications (NOM=VALEUR ; ...)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="388"/>
        <source>Run record of the repeat</source>
        <translation>Journal d'exécution de la répétition</translation>
    </message>
</context>
<context>
    <name>SampleDataAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="12"/>
        <source>Generate sample data</source>
        <translation>Générer des données d'exemple</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="13"/>
        <source>Writes a realistic synthetic Sentinel-2 L2A season: one 10-band UInt16 GeoTIFF per date (scenes/S2_L2A_YYYYMMDD.tif, reflectance = DN / 10000), its scene classification (scenes/S2_L2A_YYYYMMDD_SCL.tif), the crop labels (labels.tif), the parcels (fields.gpkg) and the class list (classes.csv), in the same layout as real data.

Preset: &apos;source&apos; and &apos;target&apos; are two places with a clear but learnable shift (phenology, class proportions, atmosphere, clouds, field size); &apos;pair&apos; writes both into Output folder/source and Output folder/target.
Size: width and height in pixels (10 m). Dates: the season, YYYY-MM-DD; one acquisition every Revisit days. The same seed always gives the same data.</source>
        <translation>Écrit une saison Sentinel-2 L2A synthétique réaliste : un GeoTIFF UInt16 à 10 bandes par date (scenes/S2_L2A_YYYYMMDD.tif, réflectance = DN / 10000), sa classification de scène (scenes/S2_L2A_YYYYMMDD_SCL.tif), les étiquettes de cultures (labels.tif), les parcelles (fields.gpkg) et la liste des classes (classes.csv), avec la même organisation que les données réelles.

Préréglage : 'source' et 'target' sont deux lieux présentant un décalage net mais apprenable (phénologie, proportions des classes, atmosphère, nuages, taille des parcelles) ; 'pair' écrit les deux dans Dossier de sortie/source et Dossier de sortie/target.
Taille : largeur et hauteur en pixels (10 m). Dates : la saison, YYYY-MM-DD ; une acquisition à chaque intervalle de revisite (jours). La même graine donne toujours les mêmes données.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="14"/>
        <source>Preset</source>
        <translation>Préréglage</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="18"/>
        <source>Size (pixels)</source>
        <translation>Taille (pixels)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="19"/>
        <source>Season start (YYYY-MM-DD)</source>
        <translation>Début de saison (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="20"/>
        <source>Season end (YYYY-MM-DD)</source>
        <translation>Fin de saison (YYYY-MM-DD)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="21"/>
        <source>Revisit (days)</source>
        <translation>Intervalle de revisite (jours)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="22"/>
        <source>Random seed</source>
        <translation>Graine aléatoire</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="25"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="23"/>
        <source>Phenology shift (days; empty: the preset&apos;s)</source>
        <translation>Décalage phénologique (jours ; vide : celui du préréglage)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="24"/>
        <source>Cloud cover (share of pixels; empty: the preset&apos;s)</source>
        <translation>Couverture nuageuse (part des pixels ; vide : celle du préréglage)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="15"/>
        <source>Source and target pair</source>
        <translation>Paire source et cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="16"/>
        <source>Source domain only</source>
        <translation>Domaine source seul</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="17"/>
        <source>Target domain only</source>
        <translation>Domaine cible seul</translation>
    </message>
</context>
<context>
    <name>TrainSourceAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="151"/>
        <source>Train source model</source>
        <translation>Entraîner le modèle source</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="153"/>
        <source>Labelled block store</source>
        <translation>Stock de blocs étiqueté</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="154"/>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="159"/>
        <source>Encoder (U-Net; empty: resnet18)</source>
        <translation>Encodeur (U-Net ; vide : resnet18)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="160"/>
        <source>Pretrained encoder weights</source>
        <translation>Poids pré-entraînés de l'encodeur</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="161"/>
        <source>Epochs</source>
        <translation>Époques</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="162"/>
        <source>Iterations (&gt; 0 overrides epochs)</source>
        <translation>Itérations (&gt; 0 remplace les époques)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="163"/>
        <source>Batch size (blocks)</source>
        <translation>Taille de lot (blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="164"/>
        <source>Learning rate</source>
        <translation>Taux d'apprentissage</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="165"/>
        <source>Resume from (resume state or model)</source>
        <translation>Reprendre depuis (état de reprise ou modèle)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="166"/>
        <source>Class weights</source>
        <translation>Poids des classes</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="169"/>
        <source>Dice loss weight (0: none)</source>
        <translation>Poids de la perte Dice (0 : aucun)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="170"/>
        <source>Validate every N steps (0: every epoch)</source>
        <translation>Valider tous les N pas (0 : à chaque époque)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="171"/>
        <source>Architecture arguments (JSON)</source>
        <translation>Arguments de l'architecture (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="174"/>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="175"/>
        <source>Model (*.safetensors)</source>
        <translation>Modèle (*.safetensors)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="176"/>
        <source>Metrics per epoch (JSON)</source>
        <translation>Métriques par époque (JSON)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="177"/>
        <source>Metrics per epoch (CSV)</source>
        <translation>Métriques par époque (CSV)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="179"/>
        <source>Resume state</source>
        <translation>État de reprise</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="180"/>
        <source>Best validation mIoU</source>
        <translation>Meilleure mIoU de validation</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="181"/>
        <source>Epoch of the best model</source>
        <translation>Époque du meilleur modèle</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="182"/>
        <source>Steps trained</source>
        <translation>Pas d'entraînement effectués</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="172"/>
        <source>Encoder LR scale (fine-tuning)</source>
        <translation>Facteur du taux d'apprentissage de l'encodeur (réglage fin)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="178"/>
        <source>Training curves (PNG)</source>
        <translation>Courbes d'entraînement (PNG)</translation>
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
        <translation>Aucune (égales)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="168"/>
        <source>Balanced (inverse square-root frequency)</source>
        <translation>Équilibrées (inverse de la racine de la fréquence)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="157"/>
        <source>U-TAE (time series)</source>
        <translation>U-TAE (série temporelle)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="152"/>
        <source>Trains a segmentation model on a labelled block store (from Build blocks) and keeps the model with the best validation mIoU.

Architecture: unet (a U-Net on a timm encoder, fast on CPUs; Encoder resnet18 by default) or transunet (R50-ViT-B/16, the method&apos;s reference backbone; needs a GPU in practice); for a time-series store (Build time-series blocks, Import AgriFM samples) utae (a U-Net encoder per step with temporal attention, fast on CPUs) or agrifm (an AgriFM-style spatio-temporal Swin transformer; Import encoder weights converts AgriFM&apos;s released weights). Pretrained weights: an optional local file for the encoder: an encoder from Pretrain encoder (SimSiam), whose features must be the store&apos;s (Encoder empty takes it from the file; a lower Encoder LR scale, e.g. 0.1, fine-tunes it gently), or a .safetensors / timm .pth state dict.
Training: AdamW, warm-up then cosine decay of the learning rate, cross-entropy ignoring unlabelled pixels (optional class weights and Dice), random flips and 90-degree rotations, mixed precision on CUDA. Iterations &gt; 0 overrides Epochs (an epoch is one pass over the training blocks); each epoch ends with a validation on the store&apos;s validation blocks. On the CPU a seed gives the same model.

Output: a .safetensors model that describes itself (features, normalisation, classes with codes and colours, block size, provenance). Beside it: name.metrics.json and name.metrics.csv (loss, mIoU and IoU per class per epoch) and name.resume.safetensors. Resume: give that file (or the model) to continue a run; raise Iterations/Epochs to train longer. Cancel stops after the current step and keeps the last saved model.</source>
        <translation>Entraîne un modèle de segmentation sur un stock de blocs étiqueté (issu de Construire les blocs) et conserve le modèle ayant la meilleure mIoU de validation.

Architecture : unet (un U-Net sur un encodeur timm, rapide sur CPU ; Encodeur resnet18 par défaut) ou transunet (R50-ViT-B/16, le backbone de référence de la méthode ; nécessite en pratique un GPU) ; pour un stock de séries temporelles (Construire des blocs de séries temporelles, Importer des échantillons AgriFM) utae (un encodeur U-Net par pas avec une attention temporelle, rapide sur CPU) ou agrifm (un transformeur Swin spatio-temporel à la manière d'AgriFM ; Importer des poids d'encodeur convertit les poids publiés d'AgriFM). Poids pré-entraînés : un fichier local facultatif pour l'encodeur : un encodeur issu de Pré-entraîner l'encodeur (SimSiam), dont les variables doivent être celles du stock (un Encodeur vide est pris dans le fichier ; un facteur du taux d'apprentissage de l'encodeur plus petit, p. ex. 0,1, l'affine en douceur), ou un state dict .safetensors / timm .pth.
Entraînement : AdamW, échauffement puis décroissance cosinus du taux d'apprentissage, entropie croisée ignorant les pixels non étiquetés (poids des classes et Dice facultatifs), retournements aléatoires et rotations de 90 degrés, précision mixte sur CUDA. Itérations &gt; 0 remplace Époques (une époque est un passage sur les blocs d'entraînement) ; chaque époque se termine par une validation sur les blocs de validation du stock. Sur CPU, une même graine donne le même modèle.

Sortie : un modèle .safetensors qui se décrit lui-même (variables, normalisation, classes avec codes et couleurs, taille des blocs, provenance). À côté : name.metrics.json et name.metrics.csv (perte, mIoU et IoU par classe et par époque) et name.resume.safetensors. Reprise : donnez ce fichier (ou le modèle) pour poursuivre un entraînement ; augmentez Itérations/Époques pour entraîner plus longtemps. Annuler arrête après le pas en cours et conserve le dernier modèle enregistré.</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="158"/>
        <source>AgriFM Video Swin (time series)</source>
        <translation>AgriFM Video Swin (série temporelle)</translation>
    </message>
</context>
<context>
    <name>TrustReportAlgorithm</name>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="313"/>
        <source>What the adaptation changed (trust report)</source>
        <translation>Ce que l'adaptation a changé (rapport de confiance)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="314"/>
        <source>Shows what an adaptation changed on the target, without any label: the source model and the adapted model both predict every block of the target store.

Report (HTML, with pictures): the share of pixels whose class changed; class shares before and after; confidence and entropy histograms before and after; which classes moved to which. A warning names every class whose share collapsed (less than a third of its share before) or exploded (at least doubled, by at least 10 points of the pixels): then check the map before using it.
Agreement: a raster on the store&apos;s grid, 1 unchanged (grey) and 2 changed (orange).</source>
        <translation>Montre, sans aucune étiquette, ce qu'une adaptation a changé sur la cible : le modèle source et le modèle adapté prédisent tous deux chaque bloc du magasin cible.

Rapport (HTML, avec images) : la part des pixels dont la classe a changé ; les parts des classes avant et après ; les histogrammes de confiance et d'entropie avant et après ; quelles classes sont devenues lesquelles. Un avertissement nomme chaque classe dont la part s'est effondrée (moins d'un tiers de sa part avant) ou a explosé (au moins doublée, d'au moins 10 points de pixels) : vérifiez alors la carte avant de l'utiliser.
Concordance : un raster sur la grille du magasin, 1 inchangé (gris) et 2 changé (orange).</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="315"/>
        <source>Source model</source>
        <translation>Modèle source</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="316"/>
        <source>Adapted model</source>
        <translation>Modèle adapté</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="317"/>
        <source>Target block store</source>
        <translation>Magasin de blocs cible</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="318"/>
        <source>Batch size (blocks)</source>
        <translation>Taille de lot (blocs)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="319"/>
        <source>Trust report</source>
        <translation>Rapport de confiance</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="320"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="321"/>
        <source>Agreement (unchanged / changed)</source>
        <translation>Concordance (inchangé / changé)</translation>
    </message>
    <message>
        <location filename="../build/i18n/spec_strings.py" line="322"/>
        <source>Share of pixels that changed class</source>
        <translation>Part des pixels ayant changé de classe</translation>
    </message>
</context>
</TS>
