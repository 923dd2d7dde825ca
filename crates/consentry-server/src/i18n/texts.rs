//! The catalogue: every text a person reads, by key, in French and English.
//!
//! One entry a text: `Key = "français", "English";`. A key names the text in the code
//! (`t(lang, Text::Key)`); its name comes from the first English words. Texts with
//! parameters write them `{name}` in both languages and are filled with
//! [`Text::fill`]. Adding a language is adding a column here: the macro then refuses any
//! entry that lacks it. The tests check that both columns of an entry name the same
//! parameters.

use super::Lang;

macro_rules! texts {
    ($($key:ident = $fr:literal, $en:literal;)*) => {
        /// A text of the catalogue (its name is its first English words).
        #[allow(missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Text {
            $($key,)*
        }

        impl Text {
            /// Every text.
            pub const ALL: &'static [Text] = &[$(Text::$key,)*];

            /// The French text.
            pub const fn fr(self) -> &'static str {
                match self {
                    $(Text::$key => $fr,)*
                }
            }

            /// The English text.
            pub const fn en(self) -> &'static str {
                match self {
                    $(Text::$key => $en,)*
                }
            }
        }
    };
}

impl Text {
    /// The text in `lang`.
    pub const fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Fr => self.fr(),
            Lang::En => self.en(),
        }
    }

    /// The text in `lang` with each `{name}` replaced by its value in `args`, in one pass
    /// over the text: a value is never read again, so a value holding `{…}` (a sender's
    /// name, a notice) stays as it is. A `{name}` not in `args` is left as written.
    pub fn fill(self, lang: Lang, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut out = String::new();
        let mut rest = self.get(lang);
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                args.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (close, v.to_string()))
            });
            match value {
                Some((close, v)) => {
                    out.push_str(&v);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

texts! {
    DisclosureFormat = "Format :", "Format:";
    DisclosureFormatPdf = "PDF scellé (JSON joint)", "Sealed PDF (JSON attached)";
    PdfAttachedDisclosure =
        "La divulgation scellée (JSON) : l'adresse et l'ouverture de l'engagement de la preuve",
        "The sealed disclosure (JSON): the address and the opening of the proof's commitment";
    PdfAttachedProof =
        "La preuve de consentement scellée (JSON), telle que le registre la contient",
        "The sealed consent proof (JSON), as the log holds it";
    PdfAttachedCertificate =
        "Le certificat scellé (JSON) : la preuve, son inclusion et ses ancrages",
        "The sealed certificate (JSON): the proof, its inclusion and its anchors";
    // First used in routes/answer.rs.
    ConsentryEveryAnswerIs = "Service Consentry : chaque réponse est scellée et horodatée.",
        "Consentry: every answer is sealed and timestamped.";
    InvalidLink = "Lien non valide",
        "Invalid link";
    ThisLinkDoesNot = "Ce lien ne correspond à aucune demande. Vérifiez qu'il est complet, ou demandez un nouveau lien à l'expéditeur. Rien n'a été enregistré.",
        "This link does not match any request. Check that it is complete, or ask the sender for a new link. Nothing was recorded.";
    DataErased = "Données effacées",
        "Data erased";
    ThisRecipientSData = "Les données de ce destinataire ont été effacées ; cette demande a été annulée avec elles et ne peut plus recevoir de réponse. Rien n'a été enregistré.",
        "This recipient's data was erased; this request was cancelled with it and can no longer be answered. Nothing was recorded.";
    AnswerAlreadyRecorded = "Réponse déjà enregistrée",
        "Answer already recorded";
    YourAnswerToThis = "Votre réponse à cette demande a déjà été enregistrée ; ce lien ne sert qu'une fois.",
        "Your answer to this request was already recorded; this link works only once.";
    Answer = "Réponse : ",
        "Answer: ";
    Proof = "Preuve : ",
        "Proof: ";
    DownloadJson = "télécharger (JSON)",
        "download (JSON)";
    RequestCancelled = "Demande annulée",
        "Request cancelled";
    TheSenderCancelledThis = "L'expéditeur a annulé cette demande : elle n'attend plus de réponse. Rien n'a été enregistré.",
        "The sender cancelled this request: it no longer takes an answer. Nothing was recorded.";
    RequestWithdrawn = "Demande retirée",
        "Request withdrawn";
    TheSenderWithdrewThis = "L'expéditeur a retiré cette demande. Rien n'a été enregistré.",
        "The sender withdrew this request. Nothing was recorded.";
    RequestExpired = "Demande expirée",
        "Request expired";
    TheTimeToAnswer = "Le délai de réponse à cette demande est passé (",
        "The time to answer this request has passed (";
    NoConsentWasRecorded = "Aucun consentement n'a été enregistré.",
        "No consent was recorded.";
    Accepted = "accepté",
        "accepted";
    Refused = "refusé",
        "refused";
    Purpose = "Finalité : ",
        "Purpose: ";
    InformationFromTheSender = "Information fournie par l'expéditeur",
        "Information from the sender";
    FullTextOfThe = "Texte complet de l'information",
        "Full text of the notice";
    YouCanAnswerUntil = "Vous pouvez répondre jusqu'au ",
        "You can answer until ";
    IAccept = "J'accepte",
        "I accept";
    IRefuse = "Je refuse",
        "I refuse";
    YourAnswerWillBe = "Votre réponse sera scellée et horodatée ; vous pourrez la retirer à tout moment.",
        "Your answer will be sealed and timestamped; you can withdraw it at any time.";
    AnswerNotUnderstood = "Réponse incomprise",
        "Answer not understood";
    ChooseIAcceptOr = "Choisissez « J'accepte » ou « Je refuse ». Rien n'a été enregistré.",
        "Choose \u{201c}I accept\u{201d} or \u{201c}I refuse\u{201d}. Nothing was recorded.";
    ThankYouYourAnswer = "Merci, votre réponse est enregistrée",
        "Thank you, your answer is recorded";
    YourAnswer = "Votre réponse : ",
        "Your answer: ";
    ItIsSealedIn = "Elle est scellée dans la preuve ",
        "It is sealed in proof ";
    LogEntry = "entrée n° ",
        "log entry ";
    DownloadTheProofJson = "Télécharger la preuve (JSON)",
        "Download the proof (JSON)";

    // First used in routes/portal.rs.
    Language = "Langue",
        "Language";
    ConsentryPersonalSpace = "Espace personnel Consentry",
        "Consentry personal space";
    ConsentryYourConsentsSealed = "Consentry : vos consentements, scellés et vérifiables.",
        "Consentry: your consents, sealed and verifiable.";
    ActionRefused = "Action refusée",
        "Action refused";
    YourSessionHasEnded = "Votre session a pris fin ou ce formulaire n'est plus valable. Rien n'a été modifié.",
        "Your session has ended or this form is no longer valid. Nothing was changed.";
    SignInAgain = "Se connecter de nouveau",
        "Sign in again";
    YourPersonalSpace = "Votre espace personnel",
        "Your personal space";
    SeeTheDataAnd = "Voyez les données et les consentements que des expéditeurs tiennent à votre sujet, chaque accès à vos données, et gérez-les : corriger, retirer un consentement, effacer, exporter.",
        "See the data and consents senders hold about you and every access to your data, and manage them: correct, withdraw a consent, erase, export.";
    YouAreSignedIn = "Vous êtes connecté : ouvrir votre espace",
        "You are signed in: open your space";
    YourEMailAddress = "Votre adresse e-mail",
        "Your e-mail address";
    SendMeASign = "Recevoir un lien de connexion",
        "Send me a sign-in link";
    WeWillEMail = "Nous vous enverrons un lien valable 15 minutes, utilisable une fois.",
        "We will e-mail you a link that works once, for 15 minutes.";
    NotAValidAddress = "Adresse non valable",
        "Not a valid address";
    EnterACompleteE = "Saisissez l'adresse e-mail seule, par exemple nom@exemple.fr, sans nom, chevrons ni guillemets.",
        "Enter the e-mail address alone, for example name@example.com, without a name, angle brackets or quotes.";
    Back = "Retour",
        "Back";
    TooManyRequests = "Trop de demandes",
        "Too many requests";
    TooManyLinksWere = "Trop de liens ont été demandés récemment pour cette adresse ou depuis votre connexion. Réessayez dans 15 minutes.",
        "Too many links were asked for recently for this address or from your connection. Try again in 15 minutes.";
    CheckYourEMail = "Vérifiez votre messagerie",
        "Check your e-mail";
    IfASenderUsing = "Si un expéditeur utilisant Consentry connaît cette adresse, nous venons d'y envoyer un lien de connexion. Il est valable 15 minutes et ne sert qu'une fois.",
        "If a sender using Consentry knows this address, we have just sent a sign-in link to it. It works once, for 15 minutes.";
    NothingArrivedCheckYour = "Rien reçu ? Vérifiez les indésirables, ou redemandez un lien dans quelques minutes.",
        "Nothing arrived? Check your spam folder, or ask for a new link in a few minutes.";
    LinkAlreadyUsed = "Lien déjà utilisé",
        "Link already used";
    ThisSignInLink = "Ce lien de connexion a déjà servi ; il ne sert qu'une fois. Demandez-en un nouveau.",
        "This sign-in link was used already; it works once. Ask for a new one.";
    LinkExpired = "Lien expiré",
        "Link expired";
    ThisSignInLinkHas = "Ce lien de connexion a expiré (il vaut 15 minutes). Demandez-en un nouveau.",
        "This sign-in link has expired (it lasts 15 minutes). Ask for a new one.";
    InvalidLink2 = "Lien non valable",
        "Invalid link";
    ThisLinkMatchesNo = "Ce lien ne correspond à aucune demande de connexion. Vérifiez qu'il est complet, ou demandez-en un nouveau.",
        "This link matches no sign-in request. Check that it is complete, or ask for a new one.";
    AskForANew = "Demander un nouveau lien",
        "Ask for a new link";
    SignInToYour = "Connexion à votre espace",
        "Sign in to your space";
    ConfirmToOpenYour = "Confirmez pour ouvrir votre espace personnel sur cet appareil. La session dure une heure.",
        "Confirm to open your personal space on this device. The session lasts one hour.";
    SignIn = "Se connecter",
        "Sign in";
    Granted = "accordé",
        "granted";
    Withdrawn = "retiré",
        "withdrawn";
    AwaitingYourAnswer = "en attente de votre réponse",
        "awaiting your answer";
    Expired = "expiré",
        "expired";
    Unknown = "inconnu",
        "unknown";
    AccessGranted = "Accès accordé",
        "Access granted";
    AccessRefused = "Accès refusé",
        "Access refused";
    DataAmended = "Données corrigées",
        "Data amended";
    YourDataWasAmended = "Vos données ont été corrigées.",
        "Your data was amended.";
    YourConsentWasWithdrawn = "Votre consentement a été retiré ; la preuve du retrait est ci-dessous.",
        "Your consent was withdrawn; the proof of withdrawal is below.";
    YourDataWasErased = "Vos données ont été effacées : la clé qui les chiffrait est détruite.",
        "Your data was erased: the key that encrypted it is destroyed.";
    SignedInUntil = "Session ouverte jusqu'au ",
        "Signed in until ";
    ExportAllMyData = "Exporter toutes mes données (JSON)",
        "Export all my data (JSON)";
    SignOut = "Se déconnecter",
        "Sign out";
    NoSenderHoldsData = "Aucun expéditeur ne détient plus de données à votre sujet.",
        "No sender holds data about you any more.";
    YourPseudonymAtThis = "Votre pseudonyme chez cet expéditeur : ",
        "Your pseudonym at this sender: ";
    IdentityDataHeld = "Données d'identité détenues",
        "Identity data held";
    YourIdentityDataAt = "Vos données d'identité chez cet expéditeur ont été effacées : la clé qui les chiffrait est détruite et elles ne peuvent plus être lues par personne. Le registre ne garde que des empreintes.",
        "Your identity data at this sender was erased: the key that encrypted it is destroyed and nobody can read it any more. The ledger keeps only hashes.";
    EMail = "E-mail",
        "E-mail";
    Name = "Nom",
        "Name";
    PostalAddress = "Adresse postale",
        "Postal address";
    Phone = "Téléphone",
        "Phone";
    OtherAttributes = "Autres attributs : ",
        "Other attributes: ";
    AmendMyData = "Corriger mes données",
        "Amend my data";
    Save = "Enregistrer",
        "Save";
    Consents = "Consentements",
        "Consents";
    NoConsentRecorded = "Aucun consentement enregistré.",
        "No consent recorded.";
    Purpose2 = "Finalité",
        "Purpose";
    State = "État",
        "State";
    Since = "Depuis",
        "Since";
    Action = "Action",
        "Action";
    Until = "jusqu'au ",
        "until ";
    WithdrawMyConsent = "Retirer mon consentement",
        "Withdraw my consent";
    Proofs = "Preuves",
        "Proofs";
    Date = "Date",
        "Date";
    Decision = "Décision",
        "Decision";
    Proof2 = "Preuve",
        "Proof";
    Certificate = "Certificat",
        "Certificate";
    PendingTheDailyAnchor = "en attente de l'ancrage quotidien",
        "pending the daily anchor";
    NoCertificateOnThisService = "pas d'ancrage sur ce service",
        "no anchoring on this service";
    AccessHistory = "Historique des accès à vos données",
        "Access history";
    NoAccessToYour = "Aucun accès à vos données n'a été enregistré.",
        "No access to your data was recorded.";
    Event = "Événement",
        "Event";
    Fields = "Champs",
        "Fields";
    By = "Par",
        "By";
    InclusionProof = "Preuve d'inclusion",
        "Inclusion proof";
    You = "vous",
        "you";
    EraseMyData = "Effacer mes données",
        "Erase my data";
    TheKeyThatEncrypts = "La clé qui chiffre vos données chez cet expéditeur sera détruite : ni lui ni personne ne pourra plus les lire. Les preuves déjà scellées restent vérifiables mais ne vous désignent plus. C'est irréversible.",
        "The key that encrypts your data at this sender will be destroyed: neither they nor anyone else can read it again. Proofs already sealed stay verifiable but no longer point to you. This cannot be undone.";
    IUnderstandEraseMy = "Je comprends, effacer mes données",
        "I understand, erase my data";
    EraseForGood = "Effacer définitivement",
        "Erase for good";
    YourDataAndConsents = "Vos données et vos consentements",
        "Your data and consents";
    YourDataAtThis = "Vos données chez cet expéditeur sont déjà effacées ; il n'y a plus rien à modifier.",
        "Your data at this sender is already erased; there is nothing left to change.";
    BackToYourSpace = "Retour à votre espace",
        "Back to your space";
    ValueRefused = "Valeur refusée",
        "Value refused";
    NothingToWithdraw = "Rien à retirer",
        "Nothing to withdraw";
    ThereIsNoGranted = "Aucun consentement accordé pour cette finalité n'est en cours.",
        "There is no granted consent for this purpose.";
    TickTheConfirmationBox = "Cochez la case de confirmation pour effacer vos données.",
        "Tick the confirmation box to erase your data.";

    // First used in routes/verify_page.rs.
    VerifyAProofOr = "Vérifier une preuve ou un certificat",
        "Verify a proof or certificate";
    ThisPageChecksA = "Cette page vérifie une preuve (consentry.proof/v1) ou un certificat (consentry.certificate/v1) de Consentry dans votre navigateur, avec le même code que la commande « consentry verify ». Le document n'est envoyé nulle part.",
        "This page checks a Consentry proof (consentry.proof/v1) or certificate (consentry.certificate/v1) in your browser, with the same code as the \u{201c}consentry verify\u{201d} command. The document is sent nowhere.";
    VerificationRunsInYour = "La vérification a lieu dans votre navigateur : elle demande JavaScript et WebAssembly. Sans eux, utilisez la commande « consentry verify FICHIER ».",
        "Verification runs in your browser: it needs JavaScript and WebAssembly. Without them, use the command \u{201c}consentry verify FILE\u{201d}.";
    ChooseAJsonFile = "Choisir un fichier JSON",
        "Choose a JSON file";
    OrDropItIn = "… ou déposez-le dans ce cadre. Il est lu sur place, pas envoyé.",
        "… or drop it in this box. It is read here, not uploaded.";
    OrPasteTheDocument = "Ou collez le document",
        "Or paste the document";
    CtrlEnterVerifiesToo = "Ctrl+Entrée vérifie aussi.",
        "Ctrl+Enter verifies too.";
    Verify = "Vérifier",
        "Verify";
    Clear = "Effacer",
        "Clear";
    WhatThePageChecks = "Ce que la page vérifie",
        "What the page checks";
    TheSealTheOperator = "le sceau : la signature Ed25519 de l'opérateur sur la forme canonique (RFC 8785) de la preuve ;",
        "the seal: the operator's Ed25519 signature over the proof's canonical form (RFC 8785);";
    ForACertificateThe = "pour un certificat : la signature du point de contrôle du journal, et le chemin d'inclusion RFC 9162 de la preuve jusqu'à sa racine ;",
        "for a certificate: the signature of the log's checkpoint, and the proof's RFC 9162 inclusion path up to its root;";
    ItsAnchorsOfflineThe = "ses ancrages, hors ligne : le jeton d'horodatage RFC 3161 ou la transaction de blockchain qui date le point de contrôle (pour une blockchain, comparez le hash du bloc affiché avec un nœud ou un explorateur) ;",
        "its anchors, offline: the RFC 3161 time-stamp token or the blockchain transaction that dates the checkpoint (for a blockchain, compare the block hash shown with a node or an explorer);";
    KeysArePinned = "les clés : un document n'est valide que scellé et signé par les clés épinglées (par défaut, celles de ce service ; collez le /.well-known/consentry.json d'un autre opérateur pour les siennes). Un ancrage n'est compté que rattaché à une racine : la page ne peut pas interroger un nœud ni vérifier l'autorité d'horodatage, utilisez « consentry verify --rpc --tsa-ca » pour cela.",
        "the keys: a document is valid only if sealed and signed by the pinned keys (by default this service's; paste another operator's /.well-known/consentry.json for theirs). An anchor counts only when rooted: the page can neither ask a node nor check the time-stamping authority; use \u{201c}consentry verify --rpc --tsa-ca\u{201d} for that.";
    KeysPinnedThisService = "Clés épinglées : celles de ce service — sceau",
        "Keys pinned: this service's — seal";
    LogKeyWord = "journal",
        "log";
    TrustAnotherOperator = "Vérifier les documents d'un autre opérateur",
        "Verify another operator's documents";
    PasteItsWellKnown = "Collez son /.well-known/consentry.json (ses clés remplacent celles de ce service pour la vérification) :",
        "Paste its /.well-known/consentry.json (its keys replace this service's for the check):";
    ConsentryTheVerifierIs = "Consentry — le vérificateur est compilé depuis les sources du projet (crates/consentry-wasm).",
        "Consentry — the verifier is compiled from the project's sources (crates/consentry-wasm).";

    // First used in service/rejections.rs.
    NotPossibleHere = "Action impossible ici",
        "Not possible here";
    ThisAddressDoesNot = "Cette adresse n'accepte pas cette action.",
        "This address does not accept this action.";
    TooLarge = "Envoi trop volumineux",
        "Too large";
    WhatYouSentIs = "Ce que vous avez envoyé dépasse la taille acceptée.",
        "What you sent is larger than the service accepts.";
    UnreadableRequest = "Requête illisible",
        "Unreadable request";
    ThisAddressOrForm = "Cette adresse ou ce formulaire n'est pas lisible tel qu'envoyé.",
        "This address or form cannot be read as sent.";
    NothingWasChanged = "Rien n'a été modifié.",
        "Nothing was changed.";
    BackToTheApplication = "Retour à l'application",
        "Back to the application";

    // First used in web/book.rs.
    ThisIsNotA = "Ce n'est pas une adresse e-mail utilisable.",
        "This is not a usable e-mail address.";
    SearchForAnExact = "Cherchez une adresse e-mail exacte, ou un pseudonyme (sub_…) entier ou son début.",
        "Search for an exact e-mail address, or a pseudonym (sub_…), whole or its beginning.";
    PrivatePerson = "particulier",
        "private person";
    Professional = "professionnel",
        "professional";
    Unspecified = "non précisé",
        "unspecified";
    AddressBook = "Carnet d'adresses",
        "Address book";
    Search = "Rechercher",
        "Search";
    ExactEMailAddress = "adresse e-mail exacte ou sub_…",
        "exact e-mail address or sub_…";
    All = "toutes",
        "all";
    Status = "Statut",
        "Status";
    Any = "tous",
        "any";
    Sort = "Tri",
        "Sort";
    NewestFirst = "plus récents d'abord",
        "newest first";
    OldestFirst = "plus anciens d'abord",
        "oldest first";
    PerPage = "Par page",
        "Per page";
    Show = "Afficher",
        "Show";
    Clear2 = "Tout effacer",
        "Clear";
    ToSearchByEMail = "Pour chercher par adresse e-mail, utilisez le champ de recherche : l'adresse n'est alors jamais mise dans un lien.",
        "To search by e-mail address, use the search box: the address is then never put in a link.";
    SearchingByEMail = "La recherche par adresse e-mail ne trouve que l'adresse exacte (majuscules indifférentes) : les adresses ne sont conservées que chiffrées.",
        "Searching by e-mail address finds the exact address only (any letter case): addresses are only kept encrypted.";
    AddAContact = "Ajouter un contact",
        "Add a contact";
    ImportACsvFile = "Importer un fichier CSV",
        "Import a CSV file";
    ExportTheBookCsv = "Exporter le carnet (CSV, pseudonymisé)",
        "Export the book (CSV, pseudonymous)";
    Select = "Choisir ",
        "Select ";
    DataErased2 = "données effacées",
        "data erased";
    SelectAllOnThis = "Tout choisir sur cette page",
        "Select all on this page";
    Pseudonym = "Pseudonyme",
        "Pseudonym";
    Category = "Catégorie",
        "Category";
    Attributes = "Attributs",
        "Attributes";
    Created = "Créé",
        "Created";
    Pages = "Pages",
        "Pages";
    PreviousPage = "page précédente",
        "previous page";
    FirstPage = "première page",
        "first page";
    NextPage = "page suivante",
        "next page";
    NothingMatchesThisSearch = "Rien ne correspond à cette recherche ou à ce filtre.",
        "Nothing matches this search or filter.";
    TheBookIsEmpty = "Le carnet est vide. Ajoutez un contact ou importez un fichier CSV.",
        "The book is empty. Add a contact or import a CSV file.";
    RequestConsentFromThe = "Demander le consentement des contacts choisis",
        "Request consent from the selected contacts";
    Attributes2 = "Attributs : ",
        "Attributes: ";
    TheEMailAddress = "L'adresse e-mail, le nom, l'adresse postale et le téléphone sont chiffrés dans le coffre : personne ne les revoit ici. La catégorie et les attributs restent lisibles : ils ne doivent identifier personne.",
        "The e-mail address, name, postal address and phone are encrypted into the vault: nobody sees them here again. The category and attributes stay readable: they must not identify anyone.";
    EMailAddressRequired = "Adresse e-mail (obligatoire)",
        "E-mail address (required)";
    NonIdentifyingAttributesOne = "Attributs non identifiants (un par ligne : nom=valeur)",
        "Non-identifying attributes (one per line: name=value)";
    Names1To40 = "Noms : 1 à 40 caractères a-z 0-9 _ ; au plus 32 attributs de 200 caractères. Exemple : region=nord",
        "Names: 1 to 40 of a-z 0-9 _; at most 32 attributes of 200 characters. Example: region=north";
    AddTheContact = "Ajouter le contact",
        "Add the contact";
    BackToTheBook = "Retour au carnet",
        "Back to the book";
    TheCategoryIsPrivate = "La catégorie est particulier, professionnel ou non précisé.",
        "The category is private, professional or unspecified.";
    Refused2 = "Refusé : ",
        "Refused: ";
    TheBookAlreadyHas = "Le carnet a déjà un contact avec cette adresse e-mail : ",
        "The book already has a contact with this e-mail address: ";
    NothingWasAdded = "Rien n'a été ajouté.",
        "Nothing was added.";
    AddAnotherContact = "Ajouter un autre contact",
        "Add another contact";
    ContactAlreadyInThe = "Contact déjà présent",
        "Contact already in the book";
    ContactErased = "Contact effacé",
        "Contact erased";
    ThisContactSData = "Les données de ce contact ont été effacées (rendues inaccessibles) : il ne peut plus être modifié. Ses preuves restent vérifiables.",
        "This contact's data was erased (made inaccessible): it can no longer be edited. Its proofs still verify.";
    BackToTheContact = "Retour à la fiche",
        "Back to the contact";
    Contact = "Contact ",
        "Contact ";
    NonIdentifyingData = "Données non identifiantes",
        "Non-identifying data";
    AttributesOnePerLine = "Attributs (un par ligne : nom=valeur ; supprimez une ligne pour retirer l'attribut)",
        "Attributes (one per line: name=value; remove a line to drop the attribute)";
    ReplaceIdentityData = "Remplacer des données d'identité",
        "Replace identity data";
    IdentityDataIsEncrypted = "Les données d'identité sont chiffrées et ne sont pas affichées. Laissez un champ vide pour le garder tel quel ; une valeur saisie remplace l'ancienne, et la modification est inscrite au journal (événement data.amended à votre nom). L'adresse e-mail ne peut pas être modifiée : elle identifie le contact (ajoutez un nouveau contact pour une autre adresse).",
        "Identity data is encrypted and not shown. Leave a field empty to keep it as it is; a value replaces the old one, and the change is written to the log (a data.amended event in your name). The e-mail address cannot be changed: it identifies the contact (add a new contact for another address).";
    NewName = "Nouveau nom",
        "New name";
    NewPostalAddress = "Nouvelle adresse postale",
        "New postal address";
    NewPhone = "Nouveau téléphone",
        "New phone";
    EditAContact = "Modifier un contact",
        "Edit a contact";
    ChangedMeanwhile = "Modifié entre-temps",
        "Changed meanwhile";
    ThisContactSDataChanged = "Les données de ce contact ont changé pendant votre saisie ; rien n'a été enregistré. Recommencez.",
        "This contact's data changed while you were typing; nothing was saved. Try again.";
    EditAgain = "Modifier à nouveau",
        "Edit again";
    APurposeNameHas = "Un nom de finalité a au plus 100 caractères.",
        "A purpose name has at most 100 characters.";
    UnknownStatusChooseGranted = "Statut inconnu : choisissez accordé, refusé, retiré, en attente, expiré ou aucun.",
        "Unknown status: choose granted, refused, revoked, pending, expired or none.";
    AStatusFilterNeeds = "Un filtre de statut porte sur une finalité : choisissez aussi la finalité.",
        "A status filter needs a purpose: choose the purpose too.";
    UnknownSortOrder = "Ordre de tri inconnu.",
        "Unknown sort order.";
    APageHolds25 = "Une page contient 25, 50, 100 ou 200 contacts.",
        "A page holds 25, 50, 100 or 200 contacts.";
    ThisPageLinkIs = "Ce lien de page n'est pas valable ; repartez de la première page.",
        "This page link is not valid; start from the first page.";

    // First used in web/catalog.rs.
    PurposeSaved = "Finalité enregistrée : ",
        "Purpose saved: ";
    NewVersionSaved = "Nouvelle version enregistrée : ",
        "New version saved: ";
    APurposeIsWhat = "Une finalité est ce pour quoi vous demandez le consentement ; son nom est celui que portent les preuves. Une notice est le texte que le destinataire lit avant de répondre.",
        "A purpose is what you ask consent for; its name is the one proofs carry. A notice is the text the recipient reads before answering.";
    ANewNoticeVersion = "Une nouvelle version de notice ne modifie jamais l'ancienne : chaque preuve garde l'empreinte SHA-256 du texte exact qu'elle a montré, et les anciennes versions restent lisibles ici telles quelles. L'empreinte est calculée sur le texte UTF-8 tel qu'il est enregistré, après conversion des fins de ligne en \\n (les navigateurs envoient \\r\\n).",
        "A new notice version never edits the old one: each proof keeps the SHA-256 of the exact text it showed, and old versions stay readable here as they were. The hash is of the UTF-8 text exactly as stored, after line endings are converted to \\n (browsers send \\r\\n).";
    Purposes = "Finalités",
        "Purposes";
    NoPurposeDefinedYet = "Aucune finalité définie pour l'instant.",
        "No purpose defined yet.";
    Description = "Description",
        "Description";
    DefaultValidity = "Validité par défaut",
        "Default validity";
    Notices = "Notices",
        "Notices";
    VersionS = "version(s)",
        "version(s)";
    PurposesAndNotices = "Finalités et notices",
        "Purposes and notices";
    Days = "jours",
        "days";
    NoEnd = "sans fin",
        "no end";
    NoNoticeForThis = "Aucune notice pour cette finalité.",
        "No notice for this purpose.";
    NoticeVersionsNewestFirst = "Versions de la notice, la plus récente d'abord",
        "Notice versions, newest first";
    Version = "Version",
        "Version";
    Text = "Texte",
        "Text";
    ThisVersionSText = "Texte de cette version",
        "This version's text";
    French = "Français",
        "French";
    English = "Anglais",
        "English";
    CreateOrUpdateA = "Créer ou modifier une finalité",
        "Create or update a purpose";
    SavingAnExistingName = "Enregistrer un nom existant met à jour sa description et sa validité ; les preuves déjà faites ne changent pas.",
        "Saving an existing name updates its description and validity; proofs already made do not change.";
    NameAZ0 = "Nom (a-z 0-9 . _ -, 64 au plus)",
        "Name (a-z 0-9 . _ -, 64 at most)";
    Description2000Characters = "Description (2 000 caractères au plus)",
        "Description (2,000 characters at most)";
    DefaultValidityOfA = "Validité par défaut d'un consentement accordé, en jours (vide : sans fin ; 1 à 3 650)",
        "Default validity of a granted consent, in days (empty: no end; 1 to 3,650)";
    SaveThePurpose = "Enregistrer la finalité",
        "Save the purpose";
    AddANoticeVersion = "Ajouter une version de notice",
        "Add a notice version";
    EachSubmissionCreatesThe = "Chaque envoi crée la version suivante pour la finalité et la langue choisies ; la version précédente reste telle quelle.",
        "Each submission creates the next version for the purpose and language chosen; the previous version stays as it was.";
    ExactTextShownTo = "Texte exact montré au destinataire (20 000 caractères au plus)",
        "Exact text shown to the recipient (20,000 characters at most)";
    SaveANewVersion = "Enregistrer une nouvelle version",
        "Save a new version";
    ThePurposeNameMust = "Le nom de la finalité doit faire 1 à 64 caractères parmi a-z 0-9 . _ -, en commençant par une lettre ou un chiffre.",
        "The purpose name must be 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit.";
    TheDescriptionMustBe = "Écrivez la description en français, en anglais ou dans les deux langues, 2 000 caractères au plus chacune.",
        "Write the description in French, in English or both, 2,000 characters at most each.";
    TheDefaultValidityMust = "La validité par défaut doit être vide ou un nombre entier de jours de 1 à 3 650.",
        "The default validity must be empty or a whole number of days from 1 to 3,650.";
    ChooseOneOfYour = "Choisissez l'une de vos finalités (créez-la d'abord).",
        "Choose one of your purposes (create it first).";
    TheLanguageMustBe = "La langue doit être le français (fr) ou l'anglais (en).",
        "The language must be French (fr) or English (en).";
    TheNoticeTextMust = "Le texte de la notice doit faire de 1 à 20 000 caractères (pas seulement des espaces).",
        "The notice text must be 1 to 20,000 characters (not only spaces).";

    // First used in web/contact.rs.
    RecordedByTheSender = "saisi par l'expéditeur (manuel)",
        "recorded by the sender (manual)";
    AnsweredByThePerson = "réponse de la personne par le lien reçu (délégué)",
        "answered by the person through the e-mailed link (delegated)";
    GivenByThePerson = "donné par la personne dans le portail",
        "given by the person in the portal";
    ThePersonInThe = "la personne, dans le portail",
        "the person, in the portal";
    StaffUser = "utilisateur",
        "staff user";
    ApiKey = "clé d'API",
        "API key";
    IdentityDataRevealed = "Données d'identité consultées",
        "Identity data revealed";
    RevealRefused = "Consultation refusée",
        "Reveal refused";
    IdentityDataAmended = "Données d'identité modifiées",
        "Identity data amended";
    DataErasedCryptoShredded = "Données effacées (crypto-destruction)",
        "Data erased (crypto-shredded)";
    Queued = "en file d'attente",
        "queued";
    Sent = "envoyé",
        "sent";
    DeliveryFailed = "échec de l'envoi",
        "delivery failed";
    NotSentCancelled = "non envoyé (demande annulée)",
        "not sent (cancelled)";
    RequestExpiredUnanswered = "Demande expirée sans réponse",
        "Request expired unanswered";
    By2 = "Par : ",
        "By: ";
    Fields2 = "champs : ",
        "fields: ";
    ConsentFound = "consentement trouvé : ",
        "consent found: ";
    Proof3 = "preuve : ",
        "proof: ";
    Contact2 = "Contact",
        "Contact";
    Added = "Ajouté le",
        "Added";
    DataErasedThisPerson = "Données effacées : l'identité de cette personne a été détruite (crypto-destruction). Ses preuves restent vérifiables, mais ne peuvent plus lui être reliées ; aucun consentement ne peut plus être enregistré ou demandé.",
        "Data erased: this person's identity was destroyed (crypto-shredded). Their proofs still verify but can no longer be linked to them; no consent can be recorded or requested any more.";
    EditContact = "Modifier le contact",
        "Edit contact";
    RequestConsentByE = "Demander un consentement par e-mail",
        "Request consent by e-mail";
    ValidUntil = "Valable jusqu'au",
        "Valid until";
    NoConsentRecordedOr = "Aucun consentement enregistré ni demandé.",
        "No consent recorded or requested yet.";
    Timeline = "Historique",
        "Timeline";
    NothingYet = "Rien encore.",
        "Nothing yet.";
    ConsentRecordedProof = "Consentement enregistré : preuve ",
        "Consent recorded: proof ";
    NewLinkEMailed = "Nouveau lien envoyé pour la demande ",
        "New link e-mailed for request ";
    ThePreviousLinkNo = " ; l'ancien lien ne fonctionne plus.",
        "; the previous link no longer works.";
    Request = "Demande ",
        "Request ";
    CancelledItsLinkTakes = " annulée : son lien n'accepte plus de réponse.",
        " cancelled: its link takes no answer any more.";
    Request2 = "demande ",
        "request ";
    Proof4 = "preuve ",
        "proof ";
    Notice = "Notice : ",
        "Notice: ";
    ValidUntil2 = "Valable jusqu'au ",
        "Valid until ";
    EvidenceCommitment = "Justificatif : engagement ",
        "Evidence: commitment ";
    EvidenceKept = "Justificatif enregistré avec la preuve",
        "Evidence recorded with the proof";
    TechnicalDetails = "Détails techniques",
        "Technical details";
    DownloadTheFile = "télécharger le fichier",
        "download the file";
    ProofJson = "Preuve JSON",
        "Proof JSON";
    ProofPdf = "Preuve PDF",
        "Proof PDF";
    CertificateJson = "Certificat JSON",
        "Certificate JSON";
    CertificatePdf = "Certificat PDF",
        "Certificate PDF";
    AnchoredCheckpointOfSize = "Ancrée : point de contrôle de taille ",
        "Anchored: checkpoint of size ";
    ConsentRequest = "Demande de consentement",
        "Consent request";
    Notice2 = "notice ",
        "notice ";
    EMail2 = "e-mail : ",
        "e-mail: ";
    Attempts = "tentatives",
        "attempts";
    AnswerExpectedUntil = "réponse attendue jusqu'au ",
        "answer expected until ";
    Answered = "répondu le ",
        "answered ";
    ResendNewLink = "Renvoyer (nouveau lien)",
        "Resend (new link)";
    CancelTheRequest = "Annuler la demande",
        "Cancel the request";
    RecordAConsent = "Enregistrer un consentement",
        "Record a consent";
    ForADecisionCollected = "Pour une décision recueillie hors de Consentry (formulaire papier, appel enregistré…). Elle est scellée dans une preuve aussitôt.",
        "For a decision collected outside Consentry (a paper form, a recorded call…). It is sealed into a proof at once.";
    OrAnotherPurpose = "Ou une autre finalité",
        "Or another purpose";
    AZ09 = "a-z, 0-9, point, tiret, souligné ; par exemple newsletter.",
        "a-z, 0-9, dot, dash, underscore; for example newsletter.";
    ValidityInDaysIf = "Validité en jours (si accordé)",
        "Validity in days (if granted)";
    EmptyThePurposeS = "Vide : la durée par défaut de la finalité, sinon sans limite.",
        "Empty: the purpose's default, else no limit.";
    EvidenceANote = "Justificatif : une note",
        "Evidence: a note";
    OrAFile10 = "ou un fichier (10 Mio au plus)",
        "or a file (10 MiB at most)";
    ANoteOrA = "Une note ou un fichier, pas les deux : la preuve contient l'engagement (empreinte à clé) du justificatif ; un fichier est aussi conservé, chiffré sous la clé de la personne, et détruit avec elle si ses données sont effacées.",
        "A note or a file, not both: the proof holds the keyed commitment to the evidence; a file is also kept, encrypted under the person's key, and destroyed with it if their data is erased.";
    RecordAndSeal = "Enregistrer et sceller",
        "Record and seal";
    ThisContactSDataWas = "Les données de ce contact ont été effacées : aucun consentement ne peut plus être enregistré.",
        "This contact's data was erased: no consent can be recorded for it.";
    ChooseAPurposeOr = "Choisissez une finalité, ou saisissez-en une : 1 à 64 caractères parmi a-z 0-9 . _ -, commençant par une lettre ou un chiffre.",
        "Choose a purpose, or type one: 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit.";
    ChooseWhetherTheConsent = "Indiquez si le consentement a été accordé ou refusé.",
        "Choose whether the consent was granted or refused.";
    TheValidityMustBe = "La validité doit être un nombre de jours entre 1 et 3650.",
        "The validity must be a number of days from 1 to 3650.";
    TheEvidenceNoteIs = "La note dépasse 16 Kio : joignez plutôt le document comme fichier.",
        "The evidence note is longer than 16 KiB: attach the document as a file instead.";
    GiveAnEvidenceNote = "Donnez une note ou un fichier comme justificatif, pas les deux : une preuve s'engage sur un seul justificatif.",
        "Give an evidence note or a file, not both: a proof commits to one piece of evidence.";
    TheEvidenceFileIs = "Le fichier justificatif dépasse 10 Mio.",
        "The evidence file is larger than 10 MiB.";

    // First used in web/dashboard.rs.
    ChangeYourPassword = "Changer votre mot de passe",
        "Change your password";
    Dashboard = "Tableau de bord",
        "Dashboard";
    ConsentsByPurpose = "Consentements par finalité",
        "Consents by purpose";
    ContactsInTheAddress = "contacts dans le carnet d'adresses",
        "contacts in the address book";
    NoConsentRecordedAnd = "Aucun consentement enregistré ni aucune finalité définie.",
        "No consent recorded and no purpose defined yet.";
    ContactsByStatusAnd = "Contacts par statut et par finalité",
        "Contacts by status and purpose";
    ExpiredAGrantedConsent = "« Expiré » : un consentement accordé dont la validité est passée, ou une demande restée sans réponse. « Aucun » : contacts sans statut pour cette finalité.",
        "\u{201c}Expired\u{201d}: a granted consent past its validity, or a request left unanswered. \u{201c}None\u{201d}: contacts with no status for this purpose.";
    EachDayIsA = "Chaque jour est un jour civil dans le fuseau horaire {zone}.",
        "Each day is a calendar day in the {zone} time zone.";
    Blank = " : ",
        ": ";
    TheChartSFigures = "Les chiffres du graphique",
        "The chart's figures";
    Day = "Jour",
        "Day";
    Log = "Journal",
        "Log";
    EntriesProofsAndOther = "entrées (preuves et autres événements, tous expéditeurs confondus)",
        "entries (proofs and other events, all senders together)";
    LatestSignedCheckpoint = "Dernier point de contrôle signé : ",
        "Latest signed checkpoint: ";
    Entries = "entrées",
        "entries";
    ReadIt = "Le lire",
        "Read it";
    NoSignedCheckpointYet = "Aucun point de contrôle signé pour l'instant.",
        "No signed checkpoint yet.";
    Anchoring = "Ancrage",
        "Anchoring";
    PendingNextAnchorAt = "En attente : prochain ancrage à ",
        "Pending: next anchor at ";
    LatestAnchoredCheckpoint = "Dernier point de contrôle ancré : ",
        "Latest anchored checkpoint: ";
    NextAnchor = "Prochain ancrage : ",
        "Next anchor: ";
    AnchorHistoryJson = "Historique des ancrages (JSON)",
        "Anchor history (JSON)";
    AnchoringInProgressFor = "Ancrage en cours pour le point de contrôle de ",
        "Anchoring in progress for the checkpoint of ";
    NoAnchorIsConfigured = "L'ancrage quotidien n'est pas activé sur ce service. Vos preuves sont scellées et valables dès leur enregistrement ; l'ancrage, qui les rattache chaque jour à un registre public indépendant et donne à chacune un certificat, dépend de l'exploitant du service.",
        "Daily anchoring is not enabled on this service. Your proofs are sealed and valid as soon as they are recorded; anchoring, which ties them each day to an independent public register and gives each one a certificate, is up to the service's operator.";
    AnchoringNoLongerConfigured = "L'ancrage quotidien n'est plus activé sur ce service : les preuves enregistrées depuis le dernier ancrage n'auront pas de certificat tant qu'il ne l'est pas de nouveau.",
        "Daily anchoring is no longer enabled on this service: proofs recorded since the last anchor get no certificate until it is again.";
    EvmChain = "Chaîne EVM",
        "EVM chain";
    ChainId = "ID de chaîne ",
        "Chain ID ";
    Block = "bloc ",
        "block ";
    Transaction = "transaction ",
        "transaction ";
    Rfc3161TimeStamp = "Horodatage RFC 3161",
        "RFC 3161 time-stamp";
    AuthoritySTime = "heure de l'autorité : ",
        "authority's time: ";

    // First used in web/import.rs.
    FileFormat = "Format du fichier",
        "File format";
    Utf8CsvRfc = "Un fichier CSV tel qu'Excel, LibreOffice ou Google Sheets l'enregistre : séparé par des points-virgules, des virgules ou des tabulations, en UTF-8 ou en Windows-1252 (« CSV » d'Excel) ; au plus 100 000 lignes et 20 Mo.",
        "A CSV file as Excel, LibreOffice or Google Sheets saves it: separated by semicolons, commas or tabs, in UTF-8 or Windows-1252 (Excel's \u{201c}CSV\u{201d}); at most 100,000 lines and 20 MiB.";
    ColumnNamesInFrenchOrEnglish = "Les noms de colonnes et les catégories peuvent être écrits en français ou en anglais, avec ou sans accents : courriel ou e-mail, nom, prénom, adresse, téléphone, catégorie (particulier, professionnel).",
        "Column names and categories may be written in English or French, with or without accents: email or courriel, name or nom, first name, address, phone, category (private, professional).";
    FirstLineTheColumn = "Première ligne : les noms des colonnes. ",
        "First line: the column names. ";
    IsRequired = " est obligatoire ; ",
        " is required; ";
    And = "et ",
        "and ";
    Name2 = "<nom>",
        "<name>";
    NonIdentifyingAttributesAre = " (attributs non identifiants) sont facultatives.",
        " (non-identifying attributes) are optional.";
    EveryLineGoesThrough = "Chaque ligne passe les mêmes contrôles qu'un ajout à la main. Une adresse déjà présente dans le carnet n'est pas une erreur : le contact existant est gardé tel quel.",
        "Every line goes through the same checks as a contact added by hand. An address the book already has is not an error: the existing contact is left as it is.";
    NothingIsWrittenBefore = "Rien n'est écrit avant votre confirmation, et rien du tout si une ligne est refusée.",
        "Nothing is written before you confirm, and nothing at all if any line is refused.";
    DownloadAnExampleFile = "Télécharger un fichier d'exemple",
        "Download an example file";
    CsvFile = "Fichier CSV",
        "CSV file";
    CheckTheFile = "Vérifier le fichier",
        "Check the file";
    TheWholeFileIs = "Le fichier est d'abord vérifié en entier ; vous verrez ce qu'il ajoutera avant de confirmer.",
        "The whole file is checked first; you will see what it adds before you confirm.";
    ImportContacts = "Importer des contacts",
        "Import contacts";
    NothingWasImportedAnd = "rien n'a été importé et rien ne le sera depuis ce fichier. Corrigez ces lignes et envoyez le fichier à nouveau.",
        "nothing was imported, and nothing will be from this file. Correct these lines and upload the file again.";
    RefusedLinesTheReason = "Lignes refusées (le motif nomme la colonne et la règle, jamais la valeur ; motifs en anglais)",
        "Refused lines (the reason names the column and the rule, never the value)";
    Line = "Ligne",
        "Line";
    Reason = "Motif",
        "Reason";
    File = "fichier",
        "file";
    AndMoreRefusedLines = "… et d'autres lignes refusées ; les premières sont listées.",
        "… and more refused lines; the first ones are listed.";
    UploadAnotherFile = "Envoyer un autre fichier",
        "Upload another file";
    FileRefused = "Fichier refusé",
        "File refused";
    LinesWhoseAddressThe = "Lignes dont l'adresse est déjà dans le carnet (gardées telles quelles)",
        "Lines whose address the book already has (left as they are)";
    ExistingContact = "Contact existant",
        "Existing contact";
    AndMoreTheFirst = "… et d'autres ; les premières sont listées.",
        "… and more; the first ones are listed.";
    AlreadyInTheBook = " déjà dans le carnet (rien ne change pour elles).",
        " already in the book (nothing changes for them).";
    TheFileWillBe = "Le fichier sera vérifié à nouveau, puis toutes ses lignes enregistrées d'un seul coup : toutes ou aucune.",
        "The file will be checked again, then all its lines stored at once: all or none.";
    ConfirmTheImport = "Confirmer l'import",
        "Confirm the import";
    Cancel = "Annuler",
        "Cancel";
    ImportPreview = "Aperçu de l'import",
        "Import preview";
    AlreadyInTheBookLeft = " déjà dans le carnet, laissées telles quelles.",
        " already in the book, left as they were.";
    SeeTheAddressBook = "Voir le carnet d'adresses",
        "See the address book";
    ImportAnotherFile = "Importer un autre fichier",
        "Import another file";
    ImportDone = "Import terminé",
        "Import done";
    TheFileCouldNot = "le fichier n'a pas pu être vérifié",
        "the file could not be checked";
    ChooseACsvFile = "Choisissez un fichier CSV à importer.",
        "Choose a CSV file to import.";
    TheConfirmationDoesNot = "La confirmation ne contient pas de fichier ; envoyez-le à nouveau.",
        "The confirmation does not carry a file; upload it again.";

    // First used in web/layout.rs.
    MainMenu = "Menu principal",
        "Main menu";
    Import = "Importer",
        "Import";
    Users = "Utilisateurs",
        "Users";
    Password = "Mot de passe",
        "Password";
    Admin = "administrateur",
        "admin";
    Operator = "opérateur",
        "operator";
    Auditor = "auditeur",
        "auditor";
    SkipToContent = "Aller au contenu",
        "Skip to content";
    YourRoleDoesNot = "Votre rôle ne permet pas cette action, ou ce formulaire n'est plus valable (session expirée, page ouverte trop longtemps). Rien n'a été modifié.",
        "Your role does not allow this, or this form is no longer valid (session ended, page open too long). Nothing was changed.";
    NotFound = "Introuvable",
        "Not found";
    ThisPageDoesNot = "Cette page n'existe pas dans votre carnet d'adresses.",
        "This page does not exist in your address book.";
    InputRefused = "Saisie refusée",
        "Input refused";
    NothingWasChangedGo = "Rien n'a été modifié. Revenez en arrière pour corriger.",
        "Nothing was changed. Go back to correct it.";

    // First used in web/proofs.rs.
    PendingAnchorNoAnchor = "En attente d'ancrage : aucun ancrage n'est encore configuré sur ce service ; le certificat viendra avec le premier ancrage.",
        "Pending anchor: no anchor is configured on this service yet; the certificate comes with the first anchor.";
    CertificatePending = "Certificat en attente",
        "Certificate pending";
    Proof5 = "La preuve ",
        "Proof ";
    IsInTheLog = " est dans le journal (entrée n° ",
        " is in the log (entry ";
    ButTheLogHas = ") mais le journal n'a pas encore été ancré depuis. Son certificat — la preuve, son chemin d'inclusion et l'ancrage — sera disponible après le prochain ancrage.",
        ") but the log has not been anchored since. Its certificate — the proof, its inclusion path and the anchor — becomes available after the next anchor.";
    TheProofPdf = "la preuve (PDF)",
        "the proof (PDF)";
    BackToTheContact2 = "Retour au contact",
        "Back to the contact";
    TheRequestCouldNot = "la demande n'a pas pu être exécutée",
        "the request could not be carried out";

    // First used in web/requests.rs.
    French2 = "français",
        "French";
    English2 = "anglais",
        "English";
    Other = "autre",
        "other";
    NoContactsNothingTo = "Aucun contact : rien à demander.",
        "No contacts: nothing to ask.";
    NoPurposeIsDefined = "Aucune finalité n'est définie. Écrivez d'abord une finalité et sa notice : ",
        "No purpose is defined. First write a purpose and its notice: ";
    PurposeToAskFor = "Finalité demandée",
        "Purpose to ask for";
    NoticeShownToThe = "Notice montrée à la personne",
        "Notice shown to the person";
    ThisPurposeHasNo = "Cette finalité n'a pas encore de notice. ",
        "This purpose has no notice yet. ";
    WriteItsNotice = "Écrire sa notice",
        "Write its notice";
    NoticeVersion = "Version de la notice",
        "Notice version";
    LanguageOfTheE = "Langue de l'e-mail",
        "Language of the e-mail";
    TheNoticeS = "celle de la notice",
        "the notice's";
    TheEMailAnd = "L'e-mail et la page de réponse sont dans la langue de la notice, que la preuve enregistre.",
        "The e-mail and the answer page are in the notice's language, which the proof records.";
    TimeToAnswerDays = "Délai de réponse (jours, 3 à 30)",
        "Time to answer (days, 3 to 30)";
    ValidityOfAGranted = "Validité d'un consentement accordé (jours)",
        "Validity of a granted consent (days)";
    NotInThisAddress = "pas dans ce carnet d'adresses",
        "not in this address book";
    ARequestForThis = "une demande pour cette finalité attend déjà sa réponse",
        "a request for this purpose already waits for its answer";
    NotAskedTheService = "non demandé : le service a échoué ; réessayez pour ce contact",
        "not asked: the service failed; try again for this contact";
    Reason2 = "Raison",
        "Reason";
    SeeTheBookFor = "Voir le carnet pour cette finalité",
        "See the book for this purpose";
    RequestsSent = "Demandes envoyées",
        "Requests sent";
    SelectContactsInThe = "Sélectionnez d'abord des contacts dans le carnet d'adresses (ou filtrez-le par finalité et statut).",
        "Select contacts in the address book first (or filter it by a purpose and a status).";
    MoreThan20000 = "Plus de 20 000 contacts : affinez le filtre et demandez en plusieurs fois.",
        "More than 20,000 contacts: narrow the filter and ask them in several goes.";
    UnreadableSelection = "sélection illisible",
        "unreadable selection";
    ChooseOneOfThe = "Choisissez l'une des notices de la finalité.",
        "Choose one of the purpose's notices.";
    TheEMailIs = "L'e-mail est écrit dans la langue de la notice, que la preuve enregistre : choisissez une notice dans cette langue, ou « celle de la notice ».",
        "The e-mail is written in the notice's language, which the proof records: choose a notice in that language, or \u{201c}the notice's\u{201d} language.";
    TheEMailS = "La langue de l'e-mail est le français ou l'anglais.",
        "The e-mail's language is French or English.";
    TheTimeToAnswerIs = "Le délai de réponse est de 3 à 30 jours.",
        "The time to answer is 3 to 30 days.";
    TheValidityIs1 = "La validité est de 1 à 3650 jours, ou vide pour aucune.",
        "The validity is 1 to 3650 days, or empty for none.";
    NoContactMatchesThe = "Plus aucun contact ne correspond à la sélection : rien n'a été envoyé.",
        "No contact matches the selection any more: nothing was sent.";
    ThisRequestNoLonger = "Cette demande n'attend plus de réponse (répondue, expirée ou annulée) : rien n'a été modifié.",
        "This request no longer waits for an answer (answered, expired or cancelled): nothing was changed.";
    ThisRequestWasResent = "Cette demande a été renvoyée trop de fois : annulez-la et envoyez-en une nouvelle.",
        "This request was resent too many times: cancel it and send a new one.";

    // First used in web/session.rs.
    FormTooLarge = "formulaire trop volumineux",
        "form too large";
    UnreadableForm = "formulaire illisible",
        "unreadable form";
    NotAMultipartForm = "formulaire non multipart",
        "not a multipart form";
    TheUploadIsToo = "l'envoi est trop volumineux ou a été interrompu",
        "the upload is too large or was cut off";

    // First used in web/signin.rs.
    SignIn2 = "Connexion",
        "Sign in";
    EMailAddress = "Adresse e-mail",
        "E-mail address";
    AccountsAreCreatedBy = "Les comptes sont créés par l'exploitant : consentry user add.",
        "Accounts are created by the operator: consentry user add.";
    WrongOrganisationAddressOr = "Organisation, adresse ou mot de passe incorrect.",
        "Wrong organisation, address or password.";
    OrganisationItsIdentifier = "Organisation (son identifiant, ten_…)",
        "Organisation (its identifier, ten_…)";
    GivenByYourOrganisation = "Donné par l'administrateur de votre organisation, et retenu par ce navigateur après la connexion.",
        "Given by your organisation's admin, and remembered by this browser once you have signed in.";
    EnterYourOrganisationS = "Indiquez l'identifiant de votre organisation (ten_…) : ce service en sert plusieurs.",
        "Enter your organisation's identifier (ten_…): this service serves several.";
    TooManyRecentAttempts = "Trop de tentatives récentes pour ce compte ou depuis votre connexion. Réessayez dans 15 minutes.",
        "Too many recent attempts for this account or from your connection. Try again in 15 minutes.";

    // First used in web/reset.rs (and the sign-in page's link to it).
    ForgotYourPassword = "Mot de passe oublié ?",
        "Forgot your password?";
    ResetYourPassword = "Réinitialiser votre mot de passe",
        "Reset your password";
    GiveYourOrganisationAnd = "Indiquez votre organisation et votre adresse e-mail : si un compte leur correspond, nous vous envoyons un lien pour choisir un nouveau mot de passe.",
        "Give your organisation and your e-mail address: if an account matches them, we send you a link to choose a new password.";
    SendTheLink = "Envoyer le lien",
        "Send the link";
    IfAnActiveAccount = "Si un compte actif correspond à cette organisation et à cette adresse, un e-mail vient d'y être envoyé avec un lien pour choisir un nouveau mot de passe. Le lien fonctionne une seule fois, pendant une heure, et seul le dernier lien demandé fonctionne.",
        "If an active account matches this organisation and address, an e-mail has just been sent to it with a link to choose a new password. The link works once, for one hour, and only the latest link asked for works.";
    NothingArrivedCheckSpam = "Rien reçu après quelques minutes ? Vérifiez les indésirables, l'organisation et l'adresse, ou demandez à l'administrateur de votre organisation.",
        "Nothing after a few minutes? Check your spam folder, the organisation and the address, or ask your organisation's admin.";
    BackToSignIn = "Retour à la connexion",
        "Back to sign-in";
    ResetMailSubject = "Choisir un nouveau mot de passe Consentry",
        "Choose a new Consentry password";
    ResetMailBody = "Bonjour,\n\nUne réinitialisation du mot de passe de votre compte Consentry a été demandée. Pour choisir un nouveau mot de passe, ouvrez ce lien dans l'heure :\n\n{link}\n\nLe lien ne fonctionne qu'une fois. Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.\n",
        "Hello,\n\nA reset of your Consentry account's password was asked for. To choose a new password, open this link within the hour:\n\n{link}\n\nThe link works only once. If you did not ask for anything, ignore this message: your password does not change.\n";
    ChooseANewPassword = "Choisir un nouveau mot de passe",
        "Choose a new password";
    SaveTheNewPassword = "Enregistrer le nouveau mot de passe",
        "Save the new password";
    AfterTheResetEvery = "Une fois le mot de passe changé, toutes les sessions ouvertes sur ce compte sont fermées.",
        "Once the password is changed, every session open on this account is closed.";
    PasswordChanged = "Mot de passe modifié",
        "Password changed";
    YourPasswordHasBeenChanged = "Votre mot de passe a été modifié. Sessions fermées sur ce compte : {n}. Connectez-vous avec le nouveau mot de passe.",
        "Your password has been changed. Sessions closed on this account: {n}. Sign in with the new password.";
    ResetLinkUsed = "Ce lien a déjà servi à choisir un nouveau mot de passe : il ne fonctionne qu'une fois. Si besoin, demandez un nouveau lien.",
        "This link has already been used to choose a new password: it works only once. If need be, ask for a new link.";
    ResetLinkReplaced = "Un lien plus récent a été demandé pour ce compte, ou son mot de passe a été réinitialisé entre-temps : seul le dernier lien reçu fonctionne.",
        "A newer link was asked for this account, or its password was reset in the meantime: only the latest link received works.";
    ResetLinkExpired = "Ce lien a expiré : il ne fonctionne qu'une heure. Demandez un nouveau lien.",
        "This link has expired: it works for one hour only. Ask for a new link.";
    ResetLinkUnknown = "Ce lien ne correspond à aucune demande en cours (ou le compte a été désactivé). Vérifiez qu'il a été copié en entier, ou demandez un nouveau lien.",
        "This link matches no pending request (or the account has been disabled). Check that it was copied whole, or ask for a new link.";

    // First used in service/rejections.rs (pages at unknown addresses).
    NoPageAtThisAddress = "Aucune page ne se trouve à cette adresse. Le lien suivi est peut-être ancien ou incomplet.",
        "There is no page at this address. The link followed may be old or incomplete.";

    // First used in web/users.rs.
    UsersEMailAddresses = "Pour protéger vos collègues, leur adresse e-mail n'est pas conservée en clair : elle sert à se connecter, mais la liste ne peut pas l'afficher. Chacun y figure sous un identifiant ; notez de votre côté qui est qui.",
        "To protect your colleagues, their e-mail addresses are not kept in readable form: they are used to sign in, but the list cannot show them. Each one appears under an ID; keep your own note of who is who.";
    Id = "Identifiant",
        "ID";
    Role = "Rôle",
        "Role";
    Created2 = "Créé le",
        "Created";
    AddAUser = "Ajouter un utilisateur",
        "Add a user";
    EMailAddressTheir = "Adresse e-mail (son identifiant de connexion)",
        "E-mail address (their sign-in name)";
    OperatorAddressBookConsents = "opérateur — carnet d'adresses, consentements, demandes",
        "operator — address book, consents, requests";
    AuditorReadAndDownload = "auditeur — lecture et téléchargements seulement",
        "auditor — read and download only";
    AdminEverythingIncludingPurposes = "administrateur — tout, y compris finalités, notices et utilisateurs",
        "admin — everything, including purposes, notices and users";
    AnInitialPasswordIs = "Un mot de passe initial est généré et affiché une seule fois sur la page suivante : transmettez-le par un canal sûr.",
        "An initial password is generated and shown once on the next page: pass it on through a safe channel.";
    Add = "Ajouter",
        "Add";
    You2 = "(vous)",
        "(you)";
    Active = "actif",
        "active";
    DisabledOn = "désactivé le ",
        "disabled on ";
    Disable = "Désactiver",
        "Disable";
    UserAdded = "Utilisateur ajouté : ",
        "User added: ";
    InitialPasswordShownThis = "Mot de passe initial — affiché cette seule fois, il n'est enregistré que sous forme d'empreinte :",
        "Initial password — shown this once only; only its hash is stored:";
    PassItOnThrough = "Transmettez-le par un canal sûr ; l'utilisateur le changera après sa première connexion (tableau de bord, « Changer votre mot de passe »).",
        "Pass it on through a safe channel; the user changes it after signing in for the first time (dashboard, \u{201c}Change your password\u{201d}).";
    BackToUsers = "Retour aux utilisateurs",
        "Back to users";
    UserAdded2 = "Utilisateur ajouté",
        "User added";
    CurrentPassword = "Mot de passe actuel",
        "Current password";
    NewPasswordAtLeast = "Nouveau mot de passe (12 caractères au moins)",
        "New password (at least 12 characters)";
    NewPasswordAgain = "Nouveau mot de passe, encore",
        "New password, again";
    AfterTheChangeEvery = "Après le changement, toutes vos sessions se terminent, celle-ci comprise : reconnectez-vous avec le nouveau mot de passe.",
        "After the change every session of yours ends, this one included: sign in again with the new password.";
    ChangeThePassword = "Changer le mot de passe",
        "Change the password";
    ChangeYourPassword2 = "Changer de mot de passe",
        "Change your password";
    TooManyRecentAttemptsTry = "Trop de tentatives récentes. Réessayez dans 15 minutes.",
        "Too many recent attempts. Try again in 15 minutes.";
    TheCurrentPasswordIs = "Le mot de passe actuel est incorrect. Rien n'a été modifié.",
        "The current password is wrong. Nothing was changed.";
    TheTwoNewPasswords = "Les deux nouveaux mots de passe diffèrent. Rien n'a été modifié.",
        "The two new passwords differ. Nothing was changed.";
    TheNewPasswordNeeds = "Le nouveau mot de passe doit faire 12 caractères au moins. Rien n'a été modifié.",
        "The new password needs at least 12 characters. Nothing was changed.";
    ThisIsNotAn = "Ce n'est pas une adresse e-mail.",
        "This is not an e-mail address.";
    TheRoleMustBe = "Le rôle doit être administrateur, opérateur ou auditeur.",
        "The role must be admin, operator or auditor.";
    AUserOfYour = "Un utilisateur de votre organisation a déjà cette adresse e-mail.",
        "A user of your organisation already has this e-mail address.";
    TheySignInAt = "Connexion : {link} (organisation {tenant}), avec leur adresse e-mail et ce mot de passe.",
        "They sign in at {link} (organisation {tenant}) with their e-mail address and this password.";
    YourColleaguesSignIn = "Vos collègues se connectent à {link} (organisation {tenant}).",
        "Your colleagues sign in at {link} (organisation {tenant}).";
    YouCannotDisableYourself = "Vous ne pouvez pas vous désactiver vous-même : demandez à un autre administrateur.",
        "You cannot disable yourself: ask another admin.";

    // First used in routes/verify_page.rs (the script's words).
    LoadingTheVerifier = "Chargement du vérificateur…",
        "Loading the verifier…";
    TheVerifierCould = "Le vérificateur n'a pas pu être chargé : ",
        "The verifier could not be loaded: ";
    Verifying = "Vérification…",
        "Verifying…";
    PasteADocument = "Collez un document ou choisissez un fichier.",
        "Paste a document or choose a file.";
    TheVerifierStopped = "Le vérificateur s'est arrêté sur ce document : ",
        "The verifier stopped on this document: ";
    MonitorHeading = "Le registre, vérifié par votre navigateur",
        "The log, checked by your browser";
    MonitorNoScript = "Avec JavaScript, votre navigateur vérifie lui-même que le registre qu'on lui montre prolonge celui qu'il a vu la dernière fois, et que vos entrées y sont.",
        "With JavaScript, your browser checks for itself that the log it is shown extends the one it saw last time, and that your entries are in it.";
    MonitorChecking = "Votre navigateur vérifie le registre…",
        "Your browser is checking the log…";
    MonitorFailed = "Votre navigateur n'a pas pu vérifier le registre : ",
        "Your browser could not check the log: ";
    MonitorFirst = "Votre navigateur a vérifié le registre ({size} entrées) et s'en souviendra : à votre prochaine visite, il vérifiera que rien n'a été réécrit.",
        "Your browser checked the log ({size} entries) and will remember it: on your next visit it will check that nothing was rewritten.";
    MonitorSame = "Le registre ({size} entrées) est celui que votre navigateur a vérifié le {date}.",
        "The log ({size} entries) is the one your browser checked on {date}.";
    MonitorExtends = "Le registre ({size} entrées) prolonge celui que votre navigateur a vérifié le {date} ({old} entrées) : rien n'a été réécrit ni retiré.",
        "The log ({size} entries) extends the one your browser checked on {date} ({old} entries): nothing was rewritten or removed.";
    MonitorOlder = "Ce certificat ({size} entrées) est contenu dans le registre que votre navigateur a vérifié le {date} ({old} entrées).",
        "This certificate ({size} entries) is contained in the log your browser checked on {date} ({old} entries).";
    MonitorInconsistent = "Alerte : le registre montré ne prolonge pas celui que votre navigateur a vérifié le {date}. Votre navigateur garde les deux versions signées comme preuve. Raison : {problem}",
        "Warning: the log shown does not extend the one your browser checked on {date}. Your browser keeps both signed versions as evidence. Reason: {problem}";
    MonitorInvalid = "Alerte : le registre montré n'a pas pu être vérifié. Raison : {problem}",
        "Warning: the log shown could not be verified. Reason: {problem}";
    MonitorCosigned = "Cosigné par les témoins : {names}.",
        "Cosigned by the witnesses: {names}.";
    MonitorNotWitnessed = "Aucun témoin n'a encore cosigné cet état du registre.",
        "No witness has cosigned this state of the log yet.";
    MonitorEntryIncluded = "✓ dans le registre ({size} entrées)",
        "✓ in the log ({size} entries)";
    MonitorEntryPending = "dans le prochain état publié du registre",
        "in the log's next published state";
    MonitorEntryFailed = "✗ non prouvé : ",
        "✗ not proven: ";
    CheckedByYourBrowser = "Vérifié par votre navigateur",
        "Checked by your browser";
    File2 = "Fichier : ",
        "File: ";
    Valid = "Valide",
        "Valid";
    Invalid = "Non valide",
        "Invalid";
    UnusableDocument = "Document inutilisable",
        "Unusable document";
    NoCheckFailed = "Aucune vérification n'a échoué.",
        "No check failed.";
    ACheckFailed = "Une vérification a échoué : ",
        "A check failed: ";
    ThisIsNot = "Ce n'est pas une preuve ou un certificat Consentry lisible : ",
        "This is not a readable Consentry proof or certificate: ";
    Proof6 = "preuve",
        "proof";
    Certificate2 = "certificat",
        "certificate";
    TlogProof = "preuve tlog-proof",
        "tlog-proof";
    AnchorHistory = "historique des ancrages",
        "anchor history";
    LogEvent = "événement du journal",
        "log event";
    Proof7 = "Preuve ",
        "Proof ";
    Event2 = "Événement ",
        "Event ";
    LogEntryHash = "Empreinte dans le journal : ",
        "Log entry hash: ";
    ExistedByVerified = "Existait au plus tard le (ancrage vérifié) : ",
        "Existed by (verified anchor): ";
    Passed = "réussie",
        "passed";
    Failed = "échouée",
        "failed";
    NotChecked = "non vérifiée",
        "not checked";
    SealTheProof = "Sceau (signature Ed25519 de la preuve)",
        "Seal (the proof's Ed25519 signature)";
    SealKey = "Clé de scellement",
        "Seal key";
    PositionInThe = "Position dans le journal",
        "Position in the log";
    CheckpointSignature = "Signature du point de contrôle",
        "Checkpoint signature";
    LogKey = "Clé du journal",
        "Log key";
    TheProofS = "Journal de la preuve",
        "The proof's log";
    InclusionInThe = "Inclusion dans le journal (RFC 9162)",
        "Inclusion in the log (RFC 9162)";
    Anchors = "Ancrages",
        "Anchors";
    Anchor = "Ancrage",
        "Anchor";
    AnchorOnA = "Ancrage dans une blockchain (EVM)",
        "Anchor on a blockchain (EVM)";
    TimeStampRfc = "Horodatage (RFC 3161)",
        "Time-stamp (RFC 3161)";
    ConsistencyOfThe = "Cohérence du journal (RFC 9162)",
        "Consistency of the log (RFC 9162)";

    // Statuses (i18n::status_label).
    StatusRevoked = "retiré",
        "revoked";
    StatusPending = "en attente",
        "pending";
    StatusCancelled = "annulé",
        "cancelled";
    StatusAnswered = "répondu",
        "answered";
    StatusNone = "aucun",
        "none";
    NotRooted = "non rattachée à une clé épinglée",
        "not rooted in a pinned key";
    DiscloseForADispute = "Communiquer l'adresse pour un litige :",
        "Disclose the address for a dispute:";
    GroundLegalClaim = "action en justice",
        "legal claim";
    GroundAuthorityRequest = "demande d'une autorité",
        "authority request";
    GroundSubjectRequest = "demande de la personne",
        "the person's request";
    DiscloseButton = "Télécharger la divulgation (journalisée)",
        "Download the disclosure (logged)";
    DisclosedForADispute = "adresse communiquée pour un litige, avec l'ouverture de sa preuve",
        "address disclosed for a dispute, with the opening of its proof";
    Untrusted = "Non fiable",
        "Untrusted";
    UntrustedDetail = "Les signatures et les calculs tiennent, mais ne sont rattachés à rien que vous ayez épinglé (n'importe qui peut signer avec sa propre clé) : ",
        "The signatures and maths hold, but are not rooted in anything you pinned (anyone can sign with a key of their own): ";

    // Texts with parameters, filled with Text::fill.
    SelectedContacts = "{n} contact(s) sélectionné(s)",
        "{n} selected contact(s)";
    ContactsWhoseConsentIs = "{n} contact(s) dont le consentement pour « {purpose} » est : {status}",
        "{n} contact(s) whose consent for \u{201c}{purpose}\u{201d} is: {status}";
    SendNRequests = "Envoyer {n} demande(s)",
        "Send {n} request(s)";
    ProofsPerDay = "Preuves par jour, {days} derniers jours ({zone})",
        "Proofs per day, last {days} days ({zone})";
    ChartDescription = "Barres empilées par jour : accordés, refusés, retirés. Total : {granted} accordés, {refused} refusés, {revoked} retirés ; au plus {max} en un jour.",
        "Stacked bars per day: granted, refused, revoked. In all: {granted} granted, {refused} refused, {revoked} revoked; at most {max} in one day.";
    NoContactMatches = "Aucun contact ne correspond.",
        "No contact matches.";
    OneContactMatches = "1 contact correspond.",
        "1 contact matches.";
    ContactsMatch = "{n} contacts correspondent.",
        "{n} contacts match.";
    RequestConsentFromFilter = "Demander le consentement des {n} contacts correspondant à ce filtre",
        "Request consent from all {n} contacts matching this filter";
    AttributesWriteNameValue = "Attributs, ligne {line} : écrivez nom=valeur.",
        "Attributes, line {line}: write name=value.";
    AttributesTwice = "Attributs, ligne {line} : « {name} » apparaît deux fois.",
        "Attributes, line {line}: \u{201c}{name}\u{201d} appears twice.";
    FieldTooLong = "{field} : au plus {max} caractères, sans caractère de contrôle.",
        "{field}: at most {max} characters, no control characters.";
    FieldName = "nom",
        "name";
    FieldPostalAddress = "adresse postale",
        "postal address";
    FieldPhone = "téléphone",
        "phone";
    PendingAnchorNext = "En attente d'ancrage jusqu'à {at} ({zone}) — prochain ancrage : {next}.",
        "Pending anchor until {at} {zone} — next anchoring: {next}.";
    PendingAnchor = "En attente d'ancrage jusqu'à {at} ({zone}).",
        "Pending anchor until {at} {zone}.";
    LineRefused = "ligne refusée",
        "line refused";
    LinesRefused = "lignes refusées",
        "lines refused";
    NewContact = "nouveau contact",
        "new contact";
    NewContacts = "nouveaux contacts",
        "new contacts";
    OneLine = "ligne",
        "line";
    Lines = "lignes",
        "lines";
    ContactCreated = "contact créé",
        "contact created";
    ContactsCreated = "contacts créés",
        "contacts created";
    WillBeCreatedOne = " sera créé.",
        " will be created.";
    WillBeCreatedMany = " seront créés.",
        " will be created.";
    // Issue 16, item 5: the recipient side (purposes described per language, the
    // sender's contact, the answer page and e-mail, the portal, /verify's summary).
    DescriptionInFrench = "Description en français",
        "Description in French";
    DescriptionInEnglish = "Description en anglais",
        "Description in English";
    DescriptionInFrench2000 = "Description en français (2 000 caractères au plus)",
        "Description in French (2,000 characters at most)";
    DescriptionInEnglish2000 = "Description en anglais (2 000 caractères au plus)",
        "Description in English (2,000 characters at most)";
    DescriptionsAreWhatThe = "La description est ce que lit la personne sollicitée, dans l'e-mail et sur la page de réponse : écrivez-la pour elle, en une phrase claire. Elle lit celle de sa langue, sinon l'autre ; remplissez-en au moins une.",
        "The description is what the person asked reads, in the e-mail and on the answer page: write it for them, in one clear sentence. They read the one in their language, else the other; fill in at least one.";
    UsedButNotDescribed = "Utilisée (par l'API ou une demande) mais pas encore décrite : les destinataires voient son nom technique. Enregistrez-la ci-dessous avec ce nom pour la décrire.",
        "In use (through the API or a request) but not described yet: recipients see its technical name. Save it below under this name to describe it.";
    Organisation = "Organisation",
        "Organisation";
    OrganisationName = "Nom de l'organisation : ",
        "Organisation name: ";
    SettingsSaved = "Réglages enregistrés.",
        "Settings saved.";
    ContactForRecipients = "Contact pour les destinataires",
        "Contact for recipients";
    ContactForRecipientsHelp = "Une adresse e-mail (par exemple rgpd@votre-entreprise.fr) ou une adresse de site en https:// où vous joindre au sujet de leurs données. Elle figure dans chaque e-mail et sur chaque page de réponse : donnez une adresse de service, pas celle d'une personne. Laissez vide pour la retirer.",
        "An e-mail address (for example privacy@your-company.com) or an https:// web address where people can reach you about their data. It appears in every e-mail and on every answer page: give a service address, not a person's own. Leave empty to remove it.";
    TheContactMustBe = "Le contact doit être une adresse e-mail ou une adresse de site commençant par https:// (254 caractères au plus). Rien n'a été modifié.",
        "The contact must be an e-mail address or a web address starting with https:// (254 characters at most). Nothing was changed.";
    WhatThisDocumentProves = "Ce que prouve ce document",
        "What this document proves";
    ProvenSender = "Expéditeur (son identifiant chez l'opérateur — registre)",
        "Sender (its identifier at the operator — log)";
    ProvenGranted = "consentement donné",
        "consent given";
    ProvenRefused = "consentement refusé",
        "consent refused";
    ProvenRevoked = "consentement retiré",
        "consent withdrawn";
    ProofFromTheLink = "la preuve contenue dans le lien",
        "the proof carried in the link";
    TheLinkCarriesNo = "Le lien ne contient pas de preuve lisible : ",
        "The link carries no readable proof: ";
    TheSenderAsksAgain = "L'expéditeur vous demande votre consentement pour cette finalité, jusqu'au ",
        "The sender asks for your consent for this purpose, until ";
    GrantMyConsent = "Donner mon consentement",
        "Give my consent";
    YourConsentWasGranted = "Votre consentement a été enregistré.",
        "Your consent was recorded.";
    NothingToGrant = "Rien à accorder",
        "Nothing to grant";
    TheSenderDoesNotAsk = "L'expéditeur ne vous demande pas (ou plus) votre consentement pour cette finalité : rien n'a été enregistré.",
        "The sender does not (or no longer) ask for your consent for this purpose: nothing was recorded.";
    MailGreeting = "Bonjour,",
        "Hello,";
    MailGreetingNamed = "Bonjour {name},",
        "Hello {name},";
    MailContactLine = "Pour toute question sur vos données, contactez {sender} : {contact}\n\n",
        "For any question about your data, contact {sender}: {contact}\n\n";
    ValidityDays = "Si vous acceptez, votre consentement vaudra {days} jours à compter de votre réponse, sauf si vous le retirez avant.",
        "If you accept, your consent lasts {days} days from your answer, unless you withdraw it sooner.";
    ValidityNoEnd = "Si vous acceptez, votre consentement vaudra jusqu'à ce que vous le retiriez.",
        "If you accept, your consent lasts until you withdraw it.";
    QuestionsAboutYourData = "Pour toute question sur vos données, contactez {sender} : ",
        "For any question about your data, contact {sender}: ";
    WithdrawLaterInYour = "Pour retirer votre réponse plus tard, ou retrouver vos preuves : ",
        "To withdraw your answer later, or find your proofs: ";
    YourPersonalSpaceLink = "votre espace personnel",
        "your personal space";
    DownloadTheProofPdf = "Télécharger la preuve (PDF)",
        "Download the proof (PDF)";
    DownloadPdf = "télécharger (PDF)",
        "download (PDF)";
    LinkReplaced = "Lien remplacé",
        "Link replaced";
    ThisLinkWasReplaced = "{sender} vous a envoyé un e-mail plus récent pour cette demande : ce lien a été remplacé par celui du nouvel e-mail. Ouvrez le lien du dernier e-mail reçu. Rien n'a été enregistré.",
        "{sender} sent you a newer e-mail for this request: this link was replaced by the one in that e-mail. Open the link in the latest e-mail you received. Nothing was recorded.";
    SenderAsksForConsent = "{sender} vous demande votre consentement",
        "{sender} asks for your consent";
    RequestMailBody = "{greeting}\n\n{sender} souhaite obtenir votre consentement pour : {purpose}.\n\n{notice}\n\n{validity}\n\n\
         Pour répondre (accepter ou refuser), ouvrez ce lien avant le {until} :\n{link}\n\n\
         Ce lien vous est personnel et ne sert qu'une fois. Sans réponse, aucun consentement n'est enregistré.\n\n\
         Vous pourrez retirer votre réponse à tout moment, et retrouver vos preuves, sur votre espace personnel :\n{portal}\n\n\
         {contact}-- \nEnvoyé par Consentry pour le compte de {sender}.\n",
        "{greeting}\n\n{sender} would like your consent for: {purpose}.\n\n{notice}\n\n{validity}\n\n\
         To answer (accept or refuse), open this link before {until}:\n{link}\n\n\
         This link is personal and works once. If you do not answer, no consent is recorded.\n\n\
         You can withdraw your answer at any time, and find your proofs, in your personal space:\n{portal}\n\n\
         {contact}-- \nSent by Consentry on behalf of {sender}.\n";
    SignInMailSubject = "Votre lien de connexion à l'espace personnel Consentry",
        "Your Consentry sign-in link";
    SignInMailBody = "Bonjour,\n\nPour voir et gérer les données et les consentements que des expéditeurs \
         tiennent à votre sujet, ouvrez ce lien dans les 15 minutes :\n{link}\n\n\
         Ce lien ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message.\n\n-- \nConsentry\n",
        "Hello,\n\nTo see and manage the data and consents senders hold about you, open this \
         link within 15 minutes:\n{link}\n\n\
         The link works once. If you did not ask for it, ignore this message.\n\n-- \nConsentry\n";

    // Contact rules and the CSV import's reasons, in the page's language (contacts.rs,
    // contacts_csv.rs).
    FieldControlCharacters = "{field} : pas de caractère de contrôle.",
        "{field}: no control characters.";
    AtMost32Attributes = "attributs : 32 au plus.",
        "attributes: at most 32.";
    AttributeNameRule = "nom d'attribut « {name} » : 1 à 40 caractères parmi a-z, 0-9 et _.",
        "attribute name \u{201c}{name}\u{201d}: 1 to 40 of a-z, 0-9 and _.";
    AttributeValueRule = "attribut « {name} » : un texte de 200 caractères au plus, un nombre ou un booléen.",
        "attribute \u{201c}{name}\u{201d}: a text of at most 200 characters, a number or a boolean.";
    EmailUnusable = "adresse e-mail inutilisable : {rule}",
        "unusable e-mail address: {rule}";
    EmailRuleEmpty = "elle est vide.", "it is empty.";
    EmailRuleMissingAt = "il manque le @.", "it has no @.";
    EmailRuleSeveralAt = "elle contient plusieurs @.", "it has more than one @.";
    EmailRuleEmptyLocalPart = "rien avant le @.", "nothing before the @.";
    EmailRuleEmptyDomain = "rien après le @.", "nothing after the @.";
    EmailRuleWhitespace = "elle contient des espaces ou des caractères de contrôle.",
        "it contains spaces or control characters.";
    EmailRuleTooLong = "elle dépasse 254 octets.", "it is longer than 254 bytes.";
    EmailRuleLocalPartTooLong = "la partie avant le @ dépasse 64 octets.",
        "the part before the @ is longer than 64 bytes.";
    EmailRuleAngleBrackets = "elle a des chevrons ou un nom affiché : donnez l'adresse seule, comme nom@exemple.fr.",
        "it has angle brackets or a display name: give the bare address only, as name@example.org.";
    EmailRuleComment = "elle a un commentaire entre parenthèses : donnez l'adresse seule, comme nom@exemple.fr.",
        "it has a comment in parentheses: give the bare address only, as name@example.org.";
    EmailRuleQuoted = "elle contient des guillemets, qui ne sont pas acceptés.",
        "it has double quotes, which are not accepted.";
    EmailRuleDomainLiteral = "après le @ vient une adresse entre crochets, pas un nom de domaine.",
        "after the @ comes an address in brackets, not a domain name.";
    EmailRuleLocalPartDots = "la partie avant le @ commence ou finit par un point, ou a deux points de suite.",
        "the part before the @ begins or ends with a dot, or has two dots in a row.";
    EmailRuleLocalPartCharacter = "la partie avant le @ contient un caractère interdit dans une adresse.",
        "the part before the @ has a character not allowed in an address.";
    EmailRuleDomainName = "après le @ ne vient pas un nom de domaine (lettres, chiffres et tirets, entre des points).",
        "after the @ comes no domain name (letters, digits and hyphens, between dots).";
    EmailRuleNotNormalised = "elle n'est pas sous forme normalisée (sans espaces autour, en minuscules).",
        "it is not in normalised form (trimmed, lower case).";
    CsvFileTooLarge = "Le fichier dépasse {mib} Mio.",
        "The file is larger than {mib} MiB.";
    CsvEmpty = "Le fichier est vide : il faut au moins la ligne d'en-tête (les noms des colonnes).",
        "The file is empty: a header row (the column names) is required.";
    CsvHeaderUnreadable = "La ligne d'en-tête n'est pas lisible (guillemet non fermé ?).",
        "The header row is not readable (an unclosed quote?).";
    CsvColumnNoName = "La colonne {n} de l'en-tête n'a pas de nom.",
        "Column {n} of the header has no name.";
    CsvAttributeColumn = "Colonne {name} : un nom d'attribut fait 1 à 40 caractères parmi a-z, 0-9 et _.",
        "Column {name}: an attribute name is 1 to 40 of a-z, 0-9 and _.";
    CsvUnknownColumn = "Colonne {name} inconnue. Colonnes reconnues : courriel (ou e-mail), nom, prénom, adresse, téléphone, catégorie et attr.<nom>.",
        "Unknown column {name}. Known columns: email, name, first name, address, phone, category and attr.<name>.";
    CsvHeaderIsData = "La première ligne contient une adresse e-mail : elle doit donner les noms des colonnes (courriel, nom…). Ajoutez une ligne d'en-tête au début du fichier.",
        "The first line holds an e-mail address: it must give the column names (email, name…). Add a header row at the top of the file.";
    CsvColumnTwice = "La colonne {name} apparaît plusieurs fois.",
        "Column {name} appears more than once.";
    CsvNoEmailColumn = "Aucune colonne d'adresses e-mail (courriel, e-mail…). Colonnes lues : {columns} ; séparateur : {delimiter}.",
        "No e-mail address column (email, e-mail…). Columns read: {columns}; separator: {delimiter}.";
    CsvFieldCount = "{has} champ(s) alors que l'en-tête en a {header} (séparateur : {delimiter}).",
        "{has} field(s) where the header has {header} (separator: {delimiter}).";
    CsvCategory = "Catégorie : particulier, professionnel ou non précisé (ou private, professional, unspecified).",
        "Category: private, professional or unspecified (or particulier, professionnel, non précisé).";
    CsvTooManyRows = "Plus de {max} lignes : découpez le fichier.",
        "More than {max} rows: split the file.";
    CsvSameAddress = "Courriel : la même adresse qu'à la ligne {line}.",
        "Email: the same address as line {line}.";
    CsvNotReadable = "Ligne illisible (guillemet non fermé ?).",
        "Unreadable line (an unclosed quote?).";
    DelimiterComma = "virgule", "comma";
    DelimiterSemicolon = "point-virgule", "semicolon";
    DelimiterTab = "tabulation", "tab";

    // First used in routes/home.rs.
    ConsentLedger = "Registre des consentements",
        "Consent ledger";
    ThisServiceRecordsConsents = "Ce service enregistre des consentements, les scelle dans un journal public et vérifiable, et ne garde les données personnelles que chiffrées.",
        "This service records consents, seals them in a public, verifiable log, and keeps personal data only encrypted.";
    StaffSignIn = "Connexion du personnel",
        "Staff sign-in";
    ForTheSendersStaff = "Pour le personnel des expéditeurs : carnet d'adresses, consentements, demandes, preuves.",
        "For senders' staff: address book, consents, requests, proofs.";
    ForPeopleASender = "Pour les personnes qu'un expéditeur a enregistrées : voir, corriger, retirer un consentement, effacer, exporter.",
        "For people a sender holds: see, correct, withdraw a consent, erase, export.";
    ForAnyoneHoldingA = "Pour quiconque détient une preuve ou un certificat : le vérifier dans son navigateur, sans rien envoyer.",
        "For anyone holding a proof or certificate: check it in the browser, sending nothing.";
    // Requests that cannot go wrong (issue 16, item 2): the one form, the preview, the
    // result pages, the cancelling's confirmation.
    EarlierVersionsOfThe = "Versions précédentes de la notice ({n})",
        "Earlier versions of the notice ({n})";
    TheNoticesBelowAre = "Les notices proposées sont celles de la finalité choisie : changer de finalité les remplace.",
        "The notices offered are those of the purpose chosen: changing the purpose replaces them.";
    PreviewBeforeSending = "Aperçu avant l'envoi",
        "Preview before sending";
    TheNoticeChosenIs = "La notice choisie est celle de la finalité « {chosen} », pas de « {purpose} » : rien n'a été envoyé. Choisissez ci-dessous l'une des notices de « {purpose} ».",
        "The notice chosen is the one of the purpose \u{201c}{chosen}\u{201d}, not \u{201c}{purpose}\u{201d}: nothing was sent. Choose one of the notices of \u{201c}{purpose}\u{201d} below.";
    EachRecipientSPersonal = "(lien personnel de chaque destinataire)",
        "(each recipient's personal link)";
    CheckBeforeSendingNothing = "Vérifiez avant d'envoyer : rien n'est encore parti.",
        "Check before sending: nothing has been sent yet.";
    RequestForPurposeNotice = "Demande pour « {purpose} », notice v{version} en {language}, réponse attendue sous {days} jours.",
        "Request for \u{201c}{purpose}\u{201d}, notice v{version} in {language}, answer expected within {days} days.";
    TheEMailAsEach = "L'e-mail, tel que chaque destinataire le recevra",
        "The e-mail, as each recipient will get it";
    Subject = "Objet :",
        "Subject:";
    TheAnswerPage = "La page de réponse",
        "The answer page";
    OpenTheAnswerPage = "Ouvrir la page de réponse telle que le destinataire la verra (ses boutons y sont désactivés)",
        "Open the answer page as the recipient will see it (its buttons are disabled there)";
    RecipientsN = "Destinataires ({n})",
        "Recipients ({n})";
    NobodyToAskNone = "Personne à solliciter : aucun des contacts choisis ne peut recevoir cette demande (voir pourquoi ci-dessous). Aucun e-mail ne partira.",
        "Nobody to ask: none of the contacts chosen can receive this request (see why below). No e-mail will be sent.";
    AndNMore = "… et {n} autre(s)",
        "… and {n} more";
    NotAskedN = "Non sollicités ({n})",
        "Not asked ({n})";
    ChangeTheRequest = "Modifier la demande",
        "Change the request";
    ChangedSinceThePreview = "(changé depuis l'aperçu)",
        "(changed since the preview)";
    ConsentAlreadyGrantedFor = "consentement déjà accordé pour cette finalité",
        "consent already granted for this purpose";
    TheListOfRecipients = "La liste des destinataires a changé depuis l'aperçu ({before} avant, {now} maintenant) : rien n'a été envoyé. Vérifiez la nouvelle liste ci-dessous, puis envoyez.",
        "The list of recipients changed since the preview ({before} before, {now} now): nothing was sent. Check the new list below, then send.";
    SentOn = "Envoi du {when}",
        "Sent on {when}";
    NRequestsSentFor = "{n} demande(s) envoyée(s) pour « {purpose} » (notice v{version}, {language}). Les e-mails partent maintenant ; l'état de chacun est ci-dessous et sur la fiche du contact.",
        "{n} request(s) sent for \u{201c}{purpose}\u{201d} (notice v{version}, {language}). The e-mails are on their way; each one's state is below and on the contact's page.";
    NobodyWasAskedNo = "Personne n'a été sollicité : aucune demande n'a été créée et aucun e-mail n'est parti. Voici pourquoi :",
        "Nobody was asked: no request was created and no e-mail was sent. Here is why:";
    NContactsChangedSince = "{n} contact(s) ont changé depuis l'aperçu et n'ont pas été sollicités.",
        "{n} contact(s) changed since the preview and were not asked.";
    AllSendings = "Tous les envois",
        "All sendings";
    NoRequestWasSent = "Aucune demande n'a encore été envoyée depuis l'application. Pour demander un consentement, choisissez des contacts dans le carnet d'adresses :",
        "No request was sent from the application yet. To ask for consent, choose contacts in the address book:";
    RequestsCreated = "Demandes créées",
        "Requests created";
    NotAsked = "Non sollicités",
        "Not asked";
    TheRequestIdFor = "La demande {id} pour « {purpose} », adressée à {contact}, attend sa réponse.",
        "The request {id} for \u{201c}{purpose}\u{201d}, sent to {contact}, is waiting for its answer.";
    ItsLinkWillStop = "Si vous l'annulez, son lien cessera de fonctionner et la personne verra que la demande est annulée. Cela ne peut pas être défait : pour demander de nouveau, il faudra envoyer une nouvelle demande.",
        "If you cancel it, its link stops working and the person will see that the request was cancelled. This cannot be undone: to ask again, send a new request.";
    YesCancelTheRequest = "Oui, annuler la demande",
        "Yes, cancel the request";
    NoKeepIt = "Non, la garder",
        "No, keep it";
    CancelThisRequest = "Annuler cette demande ?",
        "Cancel this request?";
    DateTheConsentWasGiven = "Date à laquelle le consentement a été donné",
        "Date the consent was given";
    ForExampleTheDateSigned = "Par exemple le jour où le formulaire papier a été signé. Laissée vide : le moment de l'enregistrement. La validité compte à partir de cette date ; elle ne peut être ni dans le futur ni remonter à plus de 10 ans.",
        "For example the day the paper form was signed. Left empty: the moment it is recorded. The validity counts from this date; it cannot be in the future nor more than 10 years ago.";
    TheDateOfConsentIsNotADate = "La date du consentement n'est pas une date valide.",
        "The date of consent is not a valid date.";
    TheDateOfConsentIsInTheFuture = "La date du consentement ne peut pas être dans le futur.",
        "The date of consent cannot be in the future.";
    TheDateOfConsentIsTooOld = "La date du consentement remonte à plus de 10 ans : vérifiez l'année.",
        "The date of consent is more than 10 years ago: check the year.";
    NoticeThePersonRead = "Notice que la personne a lue",
        "Notice the person read";
    NoNoticeOrNotKnown = "Aucune, ou inconnue",
        "None, or not known";
    CurrentVersion = "version actuelle",
        "current version";
    TheNoticeIsOfAnotherPurpose = "La notice choisie est celle d'une autre finalité : choisissez une notice de la finalité enregistrée, ou « Aucune, ou inconnue ».",
        "The notice chosen belongs to another purpose: choose a notice of the purpose recorded, or \"None, or not known\".";
    TheNoticeChosenDoesNotExist = "La notice choisie n'existe pas.",
        "The notice chosen does not exist.";
    ChooseTheFileAgain = "Le fichier n'a pas été gardé : choisissez-le de nouveau.",
        "The file was not kept: choose it again.";
    ConsentNotRecorded = "Consentement non enregistré : ",
        "Consent not recorded: ";
    GivenOn = "donné le ",
        "given on ";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    fn params(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .collect()
    }

    #[test]
    fn both_languages_name_the_same_parameters() {
        for text in Text::ALL {
            assert_eq!(params(text.fr()), params(text.en()), "{text:?}");
        }
    }

    #[test]
    fn no_text_is_empty_or_written_twice() {
        let mut seen = HashMap::new();
        for text in Text::ALL {
            assert!(
                !text.fr().trim().is_empty() && !text.en().trim().is_empty(),
                "{text:?}"
            );
            if let Some(other) = seen.insert((text.fr(), text.en()), *text) {
                panic!("{text:?} and {other:?} are the same text");
            }
        }
    }

    /// Texts written alike in French and English. Any other text whose two columns are
    /// equal is a translation forgotten (an English word left on a French page, or the
    /// reverse): add it here only when the word is the same in both languages.
    const SAME_IN_BOTH: &[Text] = &[
        Text::EMail,
        Text::Action,
        Text::Date,
        Text::Pages,
        Text::Contact,
        Text::Description,
        Text::Notices,
        Text::VersionS,
        Text::Version,
        Text::Contact2,
        Text::Notice2,
        Text::Transaction,
        Text::Organisation,
    ];

    #[test]
    fn every_text_is_translated_unless_listed_as_the_same_in_both() {
        let untranslated: Vec<_> = Text::ALL
            .iter()
            .filter(|t| t.fr() == t.en() && !SAME_IN_BOTH.contains(t))
            .map(|t| format!("{t:?} = {:?}", t.fr()))
            .collect();
        assert!(
            untranslated.is_empty(),
            "French and English are the same: translate them, or list them in SAME_IN_BOTH \
             if the word is the same in both languages:\n{}",
            untranslated.join("\n")
        );
        let listed: Vec<_> = SAME_IN_BOTH.iter().filter(|t| t.fr() != t.en()).collect();
        assert!(
            listed.is_empty(),
            "listed in SAME_IN_BOTH but translated: {listed:?}"
        );
    }

    #[test]
    fn fill_replaces_parameters_once_and_leaves_values_alone() {
        assert_eq!(Text::StatusPending.fill(Lang::En, &[("x", &1)]), "pending");
        let subject = Text::SenderAsksForConsent.fill(Lang::En, &[("sender", &"{sender} & co")]);
        assert_eq!(subject, "{sender} & co asks for your consent");
        let fr = Text::SelectedContacts.fill(Lang::Fr, &[("n", &3)]);
        assert_eq!(fr, "3 contact(s) sélectionné(s)");
        // A parameter the caller did not give stays visible rather than vanishing.
        assert_eq!(
            Text::SelectedContacts.fill(Lang::En, &[]),
            "{n} selected contact(s)"
        );
    }
}
