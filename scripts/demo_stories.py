"""The hand-written news events behind the demo's sample feeds (see make_demo_feeds.py).

Each event: a slug, tags, hours before SAMPLE_NOW, a summary, and headline variants in the
voice of different outlets. The companies, models and people are fictional.
"""

EVENTS = [
    (
        "aurora-70b",
        ["models", "open-source"],
        6,
        "Helix Labs released Aurora-70B, an open-weights language model under an Apache 2.0 "
        "licence. The company reports results close to leading closed models on reasoning and "
        "coding benchmarks and publishes the full training recipe.",
        [
            "Helix Labs releases Aurora-70B as open weights",
            "Aurora-70B: Helix Labs opens a 70-billion-parameter model to everyone",
            "Helix's Aurora-70B narrows the gap between open and closed language models",
            "Open-weights Aurora-70B arrives with full training recipe",
        ],
    ),
    (
        "eu-ai-act-gpai-code",
        ["policy", "regulation"],
        20,
        "The European Commission published the final code of practice for general-purpose AI "
        "models under the AI Act. Providers must document training data sources, report serious "
        "incidents and run adversarial testing before release.",
        [
            "EU publishes final AI Act code of practice for general-purpose models",
            "Brussels finalises rules of the road for general-purpose AI providers",
            "AI Act: what the final code of practice asks of model makers",
            "European Commission sets incident reporting duty for large AI models",
        ],
    ),
    (
        "nimbus-h300",
        ["hardware", "compute"],
        30,
        "Nimbus Semiconductor unveiled the H300 accelerator with 288 GB of high-bandwidth memory "
        "and claimed 2.4 times the training throughput of its previous generation. Volume "
        "shipments to cloud providers are planned for the second quarter.",
        [
            "Nimbus unveils H300 AI accelerator with 288 GB of HBM",
            "Nimbus H300 promises 2.4x faster training than its predecessor",
            "Chipmaker Nimbus takes aim at AI training market with the H300",
        ],
    ),
    (
        "sparse-attention-paper",
        ["research", "papers"],
        40,
        "Researchers at Tallinn University proposed Ladder Attention, a sparse attention scheme "
        "that keeps accuracy on long-context benchmarks while cutting memory use by 60 percent at "
        "128k tokens.",
        [
            "Ladder Attention cuts long-context memory by 60 percent",
            "New sparse attention method keeps accuracy at 128k tokens",
            "Tallinn researchers propose Ladder Attention for long contexts",
        ],
    ),
    (
        "openmind-funding",
        ["business", "funding"],
        14,
        "OpenMind Robotics raised 410 million dollars in a Series C round led by Crestline "
        "Capital to scale production of its warehouse humanoid robots.",
        [
            "OpenMind Robotics raises $410M to build warehouse humanoids",
            "Crestline leads $410 million Series C in OpenMind Robotics",
            "Humanoid robot maker OpenMind lands $410M round",
        ],
    ),
    (
        "medscan-fda",
        ["health", "regulation"],
        26,
        "The FDA cleared MedScan Vision, an AI system that flags suspected lung nodules on chest "
        "CT scans, after a multi-site study showed radiologists caught 11 percent more early "
        "cancers with it.",
        [
            "FDA clears MedScan Vision for lung nodule detection",
            "AI that spots early lung cancer on CT wins FDA clearance",
            "MedScan Vision helps radiologists catch 11% more early cancers, study finds",
        ],
    ),
    (
        "benchmark-contamination",
        ["research", "evaluation"],
        52,
        "An audit of 40 popular benchmarks found that 14 have test items reproduced verbatim in "
        "public web crawls, suggesting reported gains on them may be inflated by memorisation.",
        [
            "Audit finds test data leaked into web crawls for 14 major AI benchmarks",
            "Benchmark contamination may inflate AI scores, audit says",
            "Are AI benchmarks compromised? New audit says 14 of 40 are",
        ],
    ),
    (
        "kestrel-agents",
        ["agents", "products"],
        9,
        "Kestrel launched Kestrel Agents, a service that lets companies deploy AI agents that "
        "operate web browsers and internal tools, with a permission system and full audit logs.",
        [
            "Kestrel launches browser-operating AI agents for enterprises",
            "Kestrel Agents can click through web apps on your behalf",
            "Kestrel bets on agents with audit logs and fine-grained permissions",
        ],
    ),
    (
        "uk-safety-institute-eval",
        ["policy", "safety"],
        33,
        "The UK AI Security Institute published pre-deployment evaluations of three frontier "
        "models, finding improved refusal of dangerous requests but persistent jailbreak "
        "vulnerabilities.",
        [
            "UK institute publishes safety tests of three frontier models",
            "Jailbreaks still work on frontier models, UK evaluation finds",
            "UK AI Security Institute reports on pre-release model testing",
        ],
    ),
    (
        "datacenter-power-deal",
        ["compute", "energy"],
        45,
        "Stratos Cloud signed a 20-year agreement to buy 1.2 gigawatts of nuclear power for "
        "new AI data centres in Ohio and Pennsylvania.",
        [
            "Stratos Cloud signs 1.2 GW nuclear power deal for AI data centres",
            "AI's power hunger: Stratos locks in two decades of nuclear supply",
            "Stratos to run new AI data centres on nuclear energy",
        ],
    ),
    (
        "protein-design-model",
        ["research", "biology"],
        60,
        "Scientists at the Basel Institute released FoldForge, a diffusion model that designs "
        "protein binders; 28 percent of its designs bound their targets in lab tests.",
        [
            "FoldForge designs protein binders with a 28% lab success rate",
            "Diffusion model from Basel designs working protein binders",
            "Basel Institute open-sources FoldForge protein design model",
        ],
    ),
    (
        "copyright-ruling",
        ["policy", "legal"],
        18,
        "A US federal judge ruled that training a language model on lawfully purchased books is "
        "fair use, but declined to dismiss claims over books obtained from pirate sites.",
        [
            "Judge rules AI training on purchased books is fair use",
            "Mixed ruling in authors' copyright case against AI developer",
            "Court: fair use covers training, but pirated books remain at issue",
        ],
    ),
    (
        "tiny-model-phone",
        ["models", "on-device"],
        11,
        "Pinecrest released Pip-3B, a 3-billion-parameter model that runs at 40 tokens per "
        "second on recent phones and supports 32k-token contexts fully offline.",
        [
            "Pinecrest's Pip-3B runs at 40 tokens a second on a phone",
            "Pip-3B brings an offline assistant to smartphones",
            "Small but capable: Pinecrest ships on-device model Pip-3B",
        ],
    ),
    (
        "robot-foundation-model",
        ["robotics", "models"],
        36,
        "Gripwise introduced RT-Omni, a robot foundation model trained on 1.1 million "
        "demonstrations across 22 robot bodies, which transfers skills to arms it has never seen.",
        [
            "Gripwise's RT-Omni controls robot arms it has never seen",
            "Robot foundation model trained on 1.1M demonstrations",
            "RT-Omni: one model for 22 different robot bodies",
        ],
    ),
    (
        "gpu-export-rules",
        ["policy", "hardware"],
        48,
        "The US Commerce Department tightened export rules for AI accelerators, adding licence "
        "requirements for shipments to 40 additional countries and closing a cloud-rental "
        "loophole.",
        [
            "US tightens AI chip export rules, closes cloud loophole",
            "Commerce adds 40 countries to AI accelerator licence regime",
            "New export controls hit AI chips and cloud rentals",
        ],
    ),
    (
        "weather-model",
        ["research", "climate"],
        64,
        "The European weather centre put its machine-learning forecast model into operation; it "
        "beat the physics-based model on 89 percent of verification targets at ten days.",
        [
            "ML weather model goes operational at European forecast centre",
            "AI forecasts beat physics on 89% of targets, weather centre says",
            "European forecasters switch on machine-learning weather model",
        ],
    ),
    (
        "code-assistant-study",
        ["research", "software"],
        28,
        "A randomised trial with 300 developers found that an AI coding assistant sped up "
        "routine tasks by 26 percent but slowed work on unfamiliar codebases.",
        [
            "Trial: AI coding assistants speed routine work, slow unfamiliar tasks",
            "300-developer study measures real effect of AI code assistants",
            "AI pair programmers help less than expected on new codebases",
        ],
    ),
    (
        "voice-clone-scam",
        ["safety", "security"],
        22,
        "Police in Lyon dismantled a fraud ring that used cloned voices of company executives to "
        "authorise wire transfers worth 7 million euros.",
        [
            "Lyon police break up voice-cloning fraud ring",
            "Cloned CEO voices used to steal €7 million, police say",
            "Deepfake voice scam targeted company finance teams",
        ],
    ),
    (
        "open-dataset-release",
        ["open-source", "datasets"],
        55,
        "The Common Pile consortium released an 8-terabyte text dataset built only from openly "
        "licensed and public-domain sources, with per-document licence metadata.",
        [
            "Common Pile releases 8 TB of openly licensed training text",
            "A large training dataset with clear licences for every document",
            "Common Pile consortium publishes licence-clean text corpus",
        ],
    ),
    (
        "interpretability-result",
        ["research", "safety"],
        70,
        "Researchers traced how a mid-sized language model performs multi-digit addition, "
        "finding separate circuits for carries that can be switched off individually.",
        [
            "Researchers map the circuits a language model uses for arithmetic",
            "Interpretability study finds 'carry circuits' inside an LLM",
            "How does an LLM add numbers? New paper traces the mechanism",
        ],
    ),
    (
        "ai-tutor-pilot",
        ["education", "products"],
        40,
        "A pilot of AI tutors across 60 schools in Kenya reported learning gains equivalent to "
        "about half a school year in mathematics over one term.",
        [
            "AI tutors lift maths scores in Kenyan schools pilot",
            "60-school pilot shows gains from AI tutoring",
            "Half a year of learning in one term? AI tutor pilot reports results",
        ],
    ),
    (
        "nimbus-earnings",
        ["business", "hardware"],
        80,
        "Nimbus Semiconductor reported quarterly data-centre revenue of 9.8 billion dollars, up "
        "74 percent, and raised its outlook on demand for AI accelerators.",
        [
            "Nimbus data-centre revenue jumps 74% on AI demand",
            "Nimbus beats expectations, raises outlook as AI chip sales soar",
        ],
    ),
    (
        "long-video-model",
        ["models", "multimodal"],
        16,
        "Lumen AI launched Reel-2, a video generation model that produces two-minute clips with "
        "consistent characters and synchronised sound.",
        [
            "Lumen's Reel-2 generates two-minute videos with sound",
            "Reel-2 video model keeps characters consistent for minutes",
            "Lumen AI unveils Reel-2 for long-form video generation",
        ],
    ),
    (
        "helix-safety-card",
        ["models", "safety"],
        4,
        "Helix Labs published a 90-page safety report for Aurora-70B describing red-team results, "
        "refusal rates and a staged release of the largest checkpoints.",
        [
            "Helix details Aurora-70B red-teaming in 90-page safety report",
            "Aurora-70B safety report describes staged release plan",
        ],
    ),
    (
        "rag-eval-paper",
        ["research", "evaluation"],
        58,
        "A new benchmark, CiteCheck, tests whether retrieval-augmented systems cite sources that "
        "actually support their answers; the best system managed 71 percent.",
        [
            "CiteCheck benchmark tests whether RAG systems cite correctly",
            "Retrieval-augmented models often cite sources that do not support them",
        ],
    ),
    (
        "autonomous-trucks",
        ["robotics", "transport"],
        66,
        "Longhaul began driverless freight runs between Dallas and Houston, the first regular "
        "commercial service without a safety driver on a US interstate.",
        [
            "Longhaul starts driverless truck runs between Dallas and Houston",
            "First regular driverless freight service launches on US interstate",
            "No one at the wheel: Longhaul trucks go fully autonomous in Texas",
        ],
    ),
    (
        "chip-startup-acquisition",
        ["business", "hardware"],
        90,
        "Stratos Cloud agreed to acquire inference-chip startup Tensil for 1.3 billion dollars to "
        "reduce its dependence on third-party accelerators.",
        [
            "Stratos Cloud to buy inference chip startup Tensil for $1.3B",
            "Tensil acquisition gives Stratos its own AI inference silicon",
        ],
    ),
    (
        "mathematical-proof",
        ["research", "reasoning"],
        24,
        "A reasoning model produced a formal Lean proof of an open conjecture in combinatorics, "
        "later checked and accepted by the mathematicians who posed it.",
        [
            "AI system proves open combinatorics conjecture in Lean",
            "Mathematicians verify machine-found proof of open problem",
            "Formal proof by a reasoning model settles combinatorics question",
        ],
    ),
    (
        "privacy-fine",
        ["policy", "privacy"],
        72,
        "Italy's data protection authority fined chatbot maker Chattery 15 million euros for "
        "training on user conversations without a valid legal basis.",
        [
            "Italy fines Chattery €15M over training on user chats",
            "Privacy regulator penalises chatbot maker for data use",
        ],
    ),
    (
        "distillation-paper",
        ["research", "efficiency"],
        84,
        "Researchers showed that distilling a large model into a 1-billion-parameter student with "
        "synthetic reasoning traces recovers 90 percent of its maths accuracy.",
        [
            "Small model recovers 90% of big model's maths skill via distillation",
            "Distillation with reasoning traces shrinks models tenfold",
        ],
    ),
    (
        "hospital-scribe",
        ["health", "products"],
        50,
        "Northbridge Health rolled out an AI scribe to 4,000 clinicians after a trial found it "
        "saved each doctor about an hour of paperwork a day.",
        [
            "Northbridge Health rolls out AI scribe to 4,000 clinicians",
            "AI note-taking saves doctors an hour a day, hospital says",
        ],
    ),
    (
        "search-engine-ai",
        ["products", "search"],
        12,
        "Findly rebuilt its search engine around an answer engine that writes cited summaries, "
        "and said it would share ad revenue with publishers whose pages are cited.",
        [
            "Findly turns its search engine into a cited answer engine",
            "Findly to share ad revenue with publishers cited in AI answers",
            "Search shake-up: Findly goes all in on AI answers",
        ],
    ),
    (
        "quantization-library",
        ["open-source", "efficiency"],
        30,
        "The maintainers of the open-source library tinyquant released version 2.0, adding 3-bit "
        "weight quantization that keeps perplexity within 2 percent of 16-bit models.",
        [
            "tinyquant 2.0 adds 3-bit quantization",
            "Open-source tinyquant 2.0 squeezes models to 3 bits",
        ],
    ),
    (
        "model-theft-arrest",
        ["security", "legal"],
        76,
        "A former engineer at Kestrel was charged with copying model weights and training code "
        "before leaving to join a competitor.",
        [
            "Ex-Kestrel engineer charged with stealing model weights",
            "Prosecutors allege theft of AI model weights at Kestrel",
        ],
    ),
    (
        "drone-swarm-fire",
        ["robotics", "climate"],
        44,
        "Firefighters in California tested a swarm of 30 autonomous drones that mapped a wildfire "
        "perimeter every five minutes during the night.",
        [
            "Drone swarm maps wildfire perimeter overnight in California test",
            "30 autonomous drones help firefighters track a blaze",
        ],
    ),
    (
        "ai-act-delay-proposal",
        ["policy", "regulation"],
        100,
        "Several EU member states proposed delaying the AI Act's high-risk obligations by a year, "
        "citing missing technical standards.",
        [
            "EU states push to delay AI Act high-risk rules",
            "Missing standards prompt calls to postpone parts of the AI Act",
        ],
    ),
]

# (title, summary) of posts that only one outlet carries.
SOLO_POSTS = {
    "lab-notes": [
        (
            "What we learned training a 1B model on a single node",
            "Notes on data mixing, learning-rate warm-up and the bugs that cost us two weeks.",
        ),
        (
            "Evaluating tokenizers for code: a practical comparison",
            "Byte-level BPE, unigram and a new hybrid, measured on six programming languages.",
        ),
        (
            "Why our loss spiked at step 41,000",
            "A post-mortem of a training instability traced to a single corrupted data shard.",
        ),
        (
            "Reproducing Ladder Attention in 200 lines",
            "We reimplemented the sparse attention paper and share what matched and what did not.",
        ),
        (
            "A field guide to mixture-of-experts routing",
            "Top-k, expert choice and soft routing compared on throughput and quality.",
        ),
        (
            "Notes from the reasoning workshop",
            "Six talks on test-time compute, verifiers and search that stayed with us.",
        ),
        (
            "Building an evaluation harness that people trust",
            "Versioned prompts, frozen seeds and why we stopped reporting single numbers.",
        ),
        (
            "Scaling laws for retrieval-augmented models",
            "How much retrieval is worth in parameters, measured from 100M to 7B.",
        ),
    ],
    "open-source": [
        (
            "vectorlite 0.9 adds on-disk HNSW indexes",
            "The embedded vector search library can now page indexes larger than memory.",
        ),
        (
            "trainloop 3.1: resumable data loaders",
            "Training restarts mid-epoch without repeating or skipping samples.",
        ),
        (
            "evalkit joins the Linux Foundation",
            "The evaluation toolkit moves to neutral governance with five corporate members.",
        ),
        (
            "promptfmt 1.0 released",
            "A formatter and linter for prompt templates reaches its first stable version.",
        ),
        (
            "Community spotlight: the people behind tinyquant",
            "How a weekend project became the quantization library many teams depend on.",
        ),
        (
            "datasheet-gen automates dataset documentation",
            "Generates a datasheet draft from a dataset's files and licences.",
        ),
    ],
    "policy": [
        (
            "Explainer: who enforces the AI Act, and how",
            "National authorities, the AI Office and the scientific panel, and how they "
            "divide the work.",
        ),
        (
            "Consultation opens on AI procurement rules for public bodies",
            "The government asks how agencies should buy and audit AI systems.",
        ),
        (
            "Canada revives its AI and data bill",
            "A slimmed-down bill returns to parliament with new transparency duties.",
        ),
    ],
    "hardware": [
        (
            "Inside the memory wall: why HBM supply limits AI",
            "Packaging capacity, not wafers, is the bottleneck for AI accelerators this year.",
        ),
        (
            "Liquid cooling becomes the default for AI racks",
            "Operators report that new accelerator racks exceed what air can cool.",
        ),
        (
            "Benchmarks: inference cost per million tokens, November edition",
            "We measured five accelerators on three open models.",
        ),
    ],
    "business": [
        (
            "AI startups raised a record amount in the third quarter",
            "Funding concentrated in a handful of model and infrastructure companies.",
        ),
        (
            "The rise of the AI procurement officer",
            "Large companies create roles to manage dozens of AI vendors.",
        ),
        (
            "Cloud margins under pressure from GPU depreciation",
            "Analysts question how long accelerators stay economically useful.",
        ),
    ],
    "robotics": [
        (
            "Why warehouse robots still struggle with soft packages",
            "Grasping deformable objects remains the hardest part of fulfilment automation.",
        ),
        (
            "A robot learned to fold laundry from 50 demonstrations",
            "A lab shows sample-efficient imitation learning on a classic hard task.",
        ),
    ],
    "health": [
        (
            "How hospitals validate AI tools before deployment",
            "Local validation studies, silent trials and monitoring after go-live.",
        ),
        (
            "AI sepsis alerts: new study questions accuracy",
            "A retrospective study finds many alerts arrive after clinicians already acted.",
        ),
    ],
}

# Templated research listings for the arXiv-style digest.
METHODS = [
    "Contrastive",
    "Hierarchical",
    "Sparse",
    "Adaptive",
    "Self-supervised",
    "Causal",
    "Federated",
    "Low-rank",
    "Bayesian",
    "Equivariant",
    "Memory-augmented",
    "Curriculum",
]
TARGETS = [
    "Tabular Learning",
    "Graph Neural Networks",
    "Speech Recognition",
    "Time-Series Forecasting",
    "Code Generation",
    "Image Segmentation",
    "Reinforcement Learning",
    "Machine Translation",
    "Recommendation",
    "Anomaly Detection",
    "Question Answering",
    "Molecule Generation",
]
CLAIMS = [
    "improves accuracy by {n}% on standard benchmarks",
    "reduces training cost by {n}% without loss of quality",
    "matches larger baselines with {n}x fewer parameters",
    "is more robust to distribution shift across {n} datasets",
    "converges {n}x faster than prior methods",
]
